//! A horizontal bar chart as a small, self-contained SVG file, for the
//! benchmarks' figures in docs/ (no plotting crate: the chart is a few
//! rectangles and labels).

use std::fmt::Write as _;

/// One bar: its label and its value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bar {
    /// Shown left of the bar.
    pub(crate) label: String,
    /// The bar's length, in the chart's unit.
    pub(crate) value: f64,
}

/// One bar made of segments, one per series of a [`stacked_chart`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stack {
    /// Shown left of the bar.
    pub(crate) label: String,
    /// The segments' lengths, in the chart's unit, in the series' order.
    pub(crate) values: Vec<f64>,
}

const WIDTH: f64 = 640.0;
const ROW: f64 = 34.0;
const TOP: f64 = 44.0;
/// The segments' colours, series by series.
const COLOURS: [&str; 4] = ["#4a7fb5", "#e0a040", "#6aa84f", "#a64d79"];

/// Room for the longest label left of the bars: at least 120 px, about 8
/// px a character beyond.
fn label_width<'a>(labels: impl Iterator<Item = &'a str>) -> f64 {
    let longest = labels.map(|l| l.chars().count()).max().unwrap_or(0);
    (longest as f64 * 8.0 + 16.0).max(120.0)
}

/// Renders `bars` as an SVG document titled `title`, with each value printed
/// after its bar followed by `unit`.
pub(crate) fn bar_chart(title: &str, unit: &str, bars: &[Bar]) -> String {
    let label = label_width(bars.iter().map(|b| b.label.as_str()));
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 {
        (WIDTH - label - 120.0) / max
    } else {
        0.0
    };
    let height = TOP + ROW * bars.len() as f64 + 16.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="14">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="10" y="26" font-size="16" font-weight="bold">{}</text>"#,
        escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let length = (bar.value.max(0.0) * scale).max(1.0);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            label - 10.0,
            y + 17.0,
            escape(&bar.label)
        );
        let _ = writeln!(
            svg,
            r##"<rect x="{label}" y="{y}" width="{length:.1}" height="24" fill="#4a7fb5"/>"##
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}">{} {}</text>"#,
            label + length + 6.0,
            y + 17.0,
            format_value(bar.value),
            escape(unit)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Renders `stacks` as an SVG document titled `title`: each bar made of one
/// segment per series (named in a legend under the title), its total
/// printed after it followed by `unit`.
pub(crate) fn stacked_chart(title: &str, unit: &str, series: &[&str], stacks: &[Stack]) -> String {
    let label = label_width(stacks.iter().map(|s| s.label.as_str()));
    let total = |s: &Stack| s.values.iter().map(|v| v.max(0.0)).sum::<f64>();
    let max = stacks.iter().map(total).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 {
        (WIDTH - label - 120.0) / max
    } else {
        0.0
    };
    let top = TOP + 24.0;
    let height = top + ROW * stacks.len() as f64 + 16.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="14">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="10" y="26" font-size="16" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let mut x = 10.0;
    for (i, name) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="40" width="14" height="14" fill="{colour}"/>"#
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="52">{}</text>"#,
            x + 20.0,
            escape(name)
        );
        x += 20.0 + name.chars().count() as f64 * 8.0 + 24.0;
    }
    for (i, stack) in stacks.iter().enumerate() {
        let y = top + ROW * i as f64;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            label - 10.0,
            y + 17.0,
            escape(&stack.label)
        );
        let mut at = label;
        for (j, value) in stack.values.iter().enumerate() {
            let length = value.max(0.0) * scale;
            let colour = COLOURS[j % COLOURS.len()];
            let _ = writeln!(
                svg,
                r#"<rect x="{at:.1}" y="{y}" width="{length:.1}" height="24" fill="{colour}"/>"#
            );
            at += length;
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}">{} {}</text>"#,
            at.max(label + 1.0) + 6.0,
            y + 17.0,
            format_value(total(stack)),
            escape(unit)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn format_value(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_shows_its_label_and_its_value_with_the_unit() {
        let svg = bar_chart(
            "Throughput",
            "MB/s",
            &[Bar {
                label: "1 KiB".into(),
                value: 950.0,
            }],
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains(">1 KiB<") && svg.contains("950 MB/s"), "{svg}");
    }

    #[test]
    fn bars_scale_to_the_largest_value() {
        let svg = bar_chart(
            "t <&>",
            "MB/s",
            &[
                Bar {
                    label: "a".into(),
                    value: 100.0,
                },
                Bar {
                    label: "b".into(),
                    value: 50.0,
                },
            ],
        );
        assert!(svg.contains("t &lt;&amp;&gt;"));
        assert!(svg.contains(r#"width="400.0""#), "{svg}");
        assert!(svg.contains(r#"width="200.0""#), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn long_labels_get_room() {
        let svg = bar_chart(
            "t",
            "µs",
            &[Bar {
                label: "lesson-05 hardened ×1000".into(),
                value: 10.0,
            }],
        );
        // 24 characters: 24 × 8 + 16 = 208 px of labels.
        assert!(svg.contains(r#"<rect x="208" "#), "{svg}");
    }

    #[test]
    fn stacked_bars_add_their_segments() {
        let svg = stacked_chart(
            "Memory",
            "KiB",
            &["VmRSS", "KernelStack"],
            &[
                Stack {
                    label: "a".into(),
                    values: vec![10.0, 15.0],
                },
                Stack {
                    label: "b".into(),
                    values: vec![1.0, 0.0],
                },
            ],
        );
        assert!(
            svg.contains(">VmRSS<") && svg.contains(">KernelStack<"),
            "{svg}"
        );
        // The longest bar (25) takes 400 px: 160 and 240.
        assert!(svg.contains(r#"width="160.0""#), "{svg}");
        assert!(svg.contains(r#"width="240.0""#), "{svg}");
        assert!(svg.contains("25.0 KiB") && svg.contains("1.0 KiB"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
