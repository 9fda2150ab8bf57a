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

/// Renders `bars` as an SVG document titled `title`, with each value printed
/// after its bar followed by `unit`.
pub(crate) fn bar_chart(title: &str, unit: &str, bars: &[Bar]) -> String {
    const WIDTH: f64 = 640.0;
    const LABEL: f64 = 120.0;
    const ROW: f64 = 34.0;
    const TOP: f64 = 44.0;
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 {
        (WIDTH - LABEL - 120.0) / max
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
            LABEL - 10.0,
            y + 17.0,
            escape(&bar.label)
        );
        let _ = writeln!(
            svg,
            r##"<rect x="{LABEL}" y="{y}" width="{length:.1}" height="24" fill="#4a7fb5"/>"##
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}">{} {}</text>"#,
            LABEL + length + 6.0,
            y + 17.0,
            format_value(bar.value),
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
}
