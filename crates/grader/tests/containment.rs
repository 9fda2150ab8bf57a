//! Attacks on the sandbox, each run through the grader as a student's
//! program (tests/programs/hostile.py), and shown contained: nothing
//! outlives the grading, classmates cannot touch each other, the disk,
//! memory, network and environment are the job's own, and a grader that is
//! not root still protects the teacher's files.
//!
//! These need namespaces (docs/grading.md, "Safety"): where the kernel
//! refuses them, each test says so and checks the report's warning instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const TIME_SCALE: &str = "0.5";

fn grader_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_grader"))
}

/// The grader, in English whatever the machine's locale (these tests read
/// its English reasons).
fn grader() -> Command {
    let mut command = Command::new(grader_path());
    testkit::in_english(&mut command);
    command
}

/// A fresh folder under the target folder (the programs' own `/tmp` is
/// private), removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("containment-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Folder(path)
    }

    /// A student's folder holding hostile.py.
    fn student(&self, name: &str) -> PathBuf {
        let dir = self.0.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(programs().join("hostile.py"), dir.join("hostile.py")).unwrap();
        dir
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn programs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/programs")
}

/// python3 in the system's folders, which programs get on their PATH.
fn system_python(test: &str) -> bool {
    let found = ["/usr/local/bin/python3", "/usr/bin/python3", "/bin/python3"]
        .iter()
        .any(|p| Path::new(p).exists());
    if !found {
        assert!(
            std::env::var_os("SOCKET_LESSONS_REQUIRE_PYTHON").is_none(),
            "{test}: python3 is required but is not in /usr/bin or /usr/local/bin"
        );
        eprintln!("{test}: skipped, no python3 in the system's folders");
    }
    found
}

fn is_root() -> bool {
    nix_free_euid() == 0
}

fn nix_free_euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(u32::MAX)
}

/// `grader check lesson-03 --format json --dir DIR OPTIONS -- COMMAND`.
fn check(dir: &Path, options: &[&str], command: &[&str]) -> (Output, Value) {
    let output = grader()
        .args([
            "check",
            "lesson-03",
            "--format",
            "json",
            "--time-scale",
            TIME_SCALE,
        ])
        .arg("--dir")
        .arg(dir)
        .args(options)
        .arg("--")
        .args(command)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "not JSON ({err}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, report)
}

/// The output tail the report shows for the first check.
fn tail(report: &Value) -> String {
    report["checks"][0]["output_tail"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Set by `.ci/run` where the sandbox must be complete (root, a kernel
/// with namespaces and a memory cgroup): a test then fails instead of
/// skipping.
const REQUIRE: &str = "SOCKET_LESSONS_REQUIRE_SANDBOX";

/// Skips a test that the machine cannot run, with a message; fails it
/// where [`REQUIRE`] is set.
fn skip(test: &str, why: &str) {
    assert!(
        std::env::var_os(REQUIRE).is_none(),
        "{test}: {why}, and {REQUIRE} is set"
    );
    eprintln!("{test}: skipped, {why}");
}

/// Whether the report says programs ran without namespaces (then the
/// attack tests have nothing to show).
fn without_namespaces(test: &str, report: &Value) -> bool {
    let warning = report["isolation"].as_str().unwrap_or("");
    if warning.starts_with("warning: programs ran without namespaces") {
        skip(
            test,
            &format!("the kernel refuses namespaces here: {warning}"),
        );
        return true;
    }
    false
}

/// Live processes whose command line holds `token`.
fn processes_with(token: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'));
            !zombie
                && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(token)
                })
        })
        .collect()
}

#[test]
fn a_program_that_forks_and_exits_over_and_over_does_not_outlive_the_grader() {
    if !system_python("fork chain") {
        return;
    }
    let folder = Folder::new("fork-chain");
    let dir = folder.student("student");
    // A number of seconds no other test uses: it marks the chain's
    // processes in /proc.
    let token = format!("29.{}", std::process::id());
    let (_, report) = check(&dir, &[], &["python3", "hostile.py", "fork-chain", &token]);
    if without_namespaces("fork chain", &report) {
        return;
    }
    let tail = tail(&report);
    assert!(tail.contains("generation"), "the chain never ran: {tail}");
    assert!(tail.contains("the first process exits"), "{tail}");
    // The grader has exited: the namespace ended with it, at once.
    let left = processes_with(&format!("fork-chain {token}"));
    assert!(left.is_empty(), "outlived the grader: {left:?}");
}

#[test]
fn classmates_graded_side_by_side_cannot_kill_trace_or_rewrite_each_other() {
    if !system_python("classmates") {
        return;
    }
    if !is_root() {
        skip("classmates", "needs root to run a batch as uids of its own");
        return;
    }
    let class = Folder::new("classmates");
    let attacker = class.student("a-attacker");
    let victim = class.0.join("b-victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::copy(programs().join("server03.py"), victim.join("server.py")).unwrap();
    let victim_file = victim.join("server.py");
    let before = std::fs::read(&victim_file).unwrap();
    let _ = attacker;
    let out = Folder::new("classmates-out");
    // Both at once; the victim starts each run a second late, so that the
    // attacker (busy for 8 s) is at work through every one of its runs.
    let run = format!(
        "if [ -f hostile.py ]; then exec python3 hostile.py classmate {} 8; \
         else sleep 1; exec python3 server.py {{port}}; fi",
        victim_file.display()
    );
    let output = grader()
        .args(["batch", "lesson-03"])
        .arg(&class.0)
        .args(["--time-scale", "1", "--jobs", "2", "--run", &run])
        .arg("--csv")
        .arg(out.0.join("grades.csv"))
        .arg("--junit")
        .arg(out.0.join("junit.xml"))
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&output.stdout);
    let csv = std::fs::read_to_string(out.0.join("grades.csv")).unwrap();
    let junit = std::fs::read_to_string(out.0.join("junit.xml")).unwrap();
    if junit.contains("without namespaces") || summary.contains("without namespaces") {
        skip("classmates", "the kernel refuses namespaces here");
        return;
    }
    assert!(
        junit.contains("rewrote the classmate's file: no"),
        "the attack did not run to its end: {junit}"
    );
    assert!(
        csv.lines().any(|l| l.starts_with("b-victim,11,")),
        "the victim lost points:\n{csv}\n{junit}"
    );
    assert_eq!(std::fs::read(&victim_file).unwrap(), before);
}

#[test]
fn the_disk_is_capped_and_nothing_is_left_behind() {
    if !system_python("disk") {
        return;
    }
    let folder = Folder::new("disk");
    let dir = folder.student("student");
    let (_, report) = check(
        &dir,
        &["--disk", "64"],
        &["python3", "hostile.py", "fill-disk"],
    );
    if without_namespaces("disk", &report) {
        return;
    }
    let tail = tail(&report);
    let written: u64 = tail
        .split("wrote ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the attack did not report: {tail}"));
    assert!(written <= 64, "{tail}");
    assert!(tail.contains("No space left on device"), "{tail}");
    // The work space went away with the grader.
    let left: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("socket-lessons-grader-"))
        .filter(|n| {
            std::fs::read_dir(std::env::temp_dir().join(n)).is_ok_and(|mut d| d.next().is_some())
        })
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn memory_is_limited_for_all_of_a_submissions_processes_together() {
    if !system_python("memory") {
        return;
    }
    let folder = Folder::new("memory");
    let dir = folder.student("student");
    // Six children of 200 MiB each, under 600 MiB in all.
    let (_, report) = check(
        &dir,
        &["--memory", "600"],
        &["python3", "hostile.py", "memory-children", "6", "200"],
    );
    let isolation = report["isolation"].as_str().unwrap_or("");
    if without_namespaces("memory", &report) {
        return;
    }
    if isolation.contains("per process only") {
        skip("memory", &format!("no memory cgroup here: {isolation}"));
        return;
    }
    let tail = tail(&report);
    let alive: u32 = tail
        .split("alive: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the parent did not report: {tail}"));
    assert!(
        alive <= 2,
        "{alive} children of 200 MiB alive under 600 MiB: {tail}"
    );
}

#[test]
fn programs_get_a_clean_environment_not_the_graders() {
    if !system_python("environment") {
        return;
    }
    let folder = Folder::new("environment");
    let dir = folder.student("student");
    let output = grader()
        .args([
            "check",
            "lesson-03",
            "--format",
            "json",
            "--time-scale",
            TIME_SCALE,
        ])
        .arg("--dir")
        .arg(&dir)
        .args(["--env", "COURSE=sockets"])
        .args(["--", "python3", "hostile.py", "environment"])
        .env("TEACHER_SECRET", "hunter2")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let tail = tail(&report);
    assert!(tail.contains("environment: "), "{tail}");
    assert!(!tail.contains("hunter2"), "{tail}");
    for expected in [
        "COURSE=sockets",
        "HOST=127.0.0.1",
        "LANG=C.UTF-8",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "PORT=",
    ] {
        assert!(tail.contains(expected), "{expected} missing: {tail}");
    }
    if report["isolation"].is_null() {
        assert!(tail.contains("HOME=/tmp/work"), "{tail}");
        assert!(tail.contains("TMPDIR=/tmp"), "{tail}");
    }
}

#[test]
fn a_program_reaches_neither_the_machines_services_nor_a_port_another_job_holds() {
    if !system_python("network") {
        return;
    }
    // A service of the machine's, on its loopback.
    let service = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = service.local_addr().unwrap().port().to_string();
    let folder = Folder::new("network");
    let dir = folder.student("student");
    let (_, report) = check(&dir, &[], &["python3", "hostile.py", "reach", &port]);
    if without_namespaces("network", &report) {
        return;
    }
    let tail = tail(&report);
    assert!(
        tail.contains("could not reach the machine's port"),
        "{tail}"
    );
    // Two jobs given the same fixed port at the same time both pass: each
    // has a loopback of its own.
    let server = programs().join("server03.py");
    let server = server.to_string_lossy();
    let graded: Vec<Value> = std::thread::scope(|scope| {
        let jobs: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let dir = Folder::new(&format!("same-port-{:?}", std::thread::current().id()));
                    std::fs::copy(server.as_ref(), dir.0.join("server.py")).unwrap();
                    check(
                        &dir.0,
                        &["--port", &port],
                        &["sh", "-c", "sleep 1; exec python3 server.py {port}"],
                    )
                    .1
                })
            })
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    for report in graded {
        assert_eq!(report["passed"], true, "{report:#}");
    }
    drop(service);
}

#[test]
fn a_grader_that_is_not_root_still_keeps_the_teachers_files_and_itself_safe() {
    if !system_python("not root") {
        return;
    }
    if !is_root() {
        skip("not root", "needs root to run the grader as nobody");
        return;
    }
    // Everything in a folder nobody can use: the grader's binary, the
    // student's program, and a gradebook nobody owns, outside /tmp and
    // /var/tmp (which programs see private and empty).
    let place = PathBuf::from(format!(
        "/var/lib/socket-lessons-not-root-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&place);
    std::fs::create_dir_all(place.join("student")).unwrap();
    let grader = place.join("grader");
    std::fs::copy(grader_path(), &grader).unwrap();
    std::fs::copy(
        programs().join("hostile.py"),
        place.join("student/hostile.py"),
    )
    .unwrap();
    let gradebook = place.join("grades.csv");
    std::fs::write(&gradebook, "student,score\n").unwrap();
    let chown = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(&place)
        .status()
        .unwrap();
    assert!(chown.success());
    let run_as_nobody = |options: &[&str], attack: &[&str]| {
        use std::os::unix::process::CommandExt;
        let output = testkit::in_english(&mut Command::new(&grader))
            .args(["check", "lesson-03", "--time-scale", TIME_SCALE, "--dir"])
            .arg(place.join("student"))
            .args(options)
            .arg("--")
            .args(attack)
            .current_dir(&place)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let gradebook_text = gradebook.to_string_lossy().into_owned();
    let text = run_as_nobody(&[], &["python3", "hostile.py", "write", &gradebook_text]);
    let first = text.lines().next().unwrap_or("");
    if first.starts_with("warning: programs ran without namespaces") {
        // No user namespaces here: the report says so on its first line.
        assert!(first.contains("with the grader's own rights"), "{text}");
        skip(
            "not root",
            "the kernel refuses unprivileged user namespaces",
        );
    } else {
        assert!(first.starts_with("note: the grader is not root"), "{text}");
        assert!(
            text.contains("could not append: Read-only file system"),
            "{text}"
        );
        assert!(
            text.contains("total 0/11"),
            "the grader did not finish: {text}"
        );
        assert_eq!(
            std::fs::read_to_string(&gradebook).unwrap(),
            "student,score\n"
        );
    }
    // And where namespaces are refused (or turned off), the first line says
    // that programs run with the grader's own rights.
    let text = run_as_nobody(
        &["--no-namespaces"],
        &["python3", "hostile.py", "environment"],
    );
    let first = text.lines().next().unwrap_or("");
    assert!(
        first.starts_with("warning: programs ran without namespaces")
            && first.contains("with the grader's own rights"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&place);
}

#[test]
fn nothing_a_program_prints_reaches_the_teachers_terminal_or_breaks_a_report() {
    if !system_python("report hygiene") {
        return;
    }
    let folder = Folder::new("hygiene");
    let dir = folder.0.clone();
    let script = "import sys; sys.stdout.write('title\\x1b]0;pwned\\x07 clear\\x1b[2J\\rPASS  forged\\x00\\x08 bad\\uffff\\ufffe end\\n'); sys.exit(1)";
    let run = |format: &str| {
        let output = grader()
            .args([
                "check",
                "lesson-03",
                "--time-scale",
                TIME_SCALE,
                "--format",
                format,
            ])
            .arg("--dir")
            .arg(&dir)
            .args(["--", "python3", "-c", script])
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let text = run("text");
    assert!(
        text.contains("PASS  forged"),
        "the program's line is shown: {text}"
    );
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reached the report: {text:?}"
    );
    for shown in [
        "\\u{1b}]0;pwned\\u{7}",
        "\\rPASS  forged\\u{0}\\u{8}",
        "\\u{ffff}",
    ] {
        assert!(text.contains(shown), "{shown} not in {text}");
    }
    let junit = run("junit");
    let document = roxmltree::Document::parse(&junit)
        .unwrap_or_else(|err| panic!("JUnit XML unreadable ({err}): {junit}"));
    let failure = document
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert!(failure.text().unwrap_or("").contains("forged"), "{junit}");
}

#[test]
fn a_grader_killed_mid_run_leaves_no_program_running() {
    if !system_python("killed grader") {
        return;
    }
    let folder = Folder::new("killed-grader");
    let token = format!("31.{}", std::process::id());
    let mut grader = grader()
        .args(["check", "lesson-03", "--format", "json", "--dir"])
        .arg(&folder.0)
        .args([
            "--",
            "python3",
            "-c",
            "import time, sys; time.sleep(float(sys.argv[1]))",
            &token,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while processes_with(&token).is_empty() && started.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        !processes_with(&token).is_empty(),
        "the program never started"
    );
    // A grader killed outright cannot clean up: its programs end anyway,
    // since their init ends when the grader's end of its pipe closes.
    grader.kill().unwrap();
    grader.wait().unwrap();
    let killed = std::time::Instant::now();
    while !processes_with(&token).is_empty() && killed.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        processes_with(&token).is_empty(),
        "still running 10 s after the grader was killed"
    );
}

#[test]
fn a_program_under_the_machines_tmp_runs_and_sees_its_folder_read_only() {
    use std::os::unix::fs::PermissionsExt;
    if !system_python("program under /tmp") {
        return;
    }
    // A repository cloned under /tmp builds its programs there: the
    // private /tmp shows that folder, read-only.
    let place = PathBuf::from(format!(
        "/tmp/socket-lessons-exposed-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&place);
    std::fs::create_dir_all(&place).unwrap();
    std::fs::copy(programs().join("server03.py"), place.join("server.py")).unwrap();
    let script = place.join("server.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nhere=$(dirname \"$0\")\necho x > \"$here/written\" 2>/dev/null\nexec python3 \"$here/server.py\" \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&place, std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = grader()
        .args([
            "check",
            "lesson-03",
            "--format",
            "json",
            "--time-scale",
            TIME_SCALE,
        ])
        .arg("--")
        .arg(&script)
        .arg("{port}")
        .current_dir("/")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "not JSON ({err}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(report["passed"], true, "{report:#}");
    if report["isolation"].is_null() {
        assert!(
            !place.join("written").exists(),
            "the program wrote beside itself"
        );
    }
    let _ = std::fs::remove_dir_all(&place);
}

#[test]
fn shared_memory_a_program_leaves_ends_with_its_run() {
    if !system_python("shared memory") {
        return;
    }
    let folder = Folder::new("shm");
    let dir = folder.student("student");
    // A size no other segment on the machine has.
    let size = (3_000_000 + std::process::id() % 100_000).to_string();
    let (_, report) = check(&dir, &[], &["python3", "hostile.py", "shm", &size]);
    if without_namespaces("shared memory", &report) {
        return;
    }
    let tail = tail(&report);
    assert!(tail.contains("shared-memory segment"), "{tail}");
    assert!(
        !tail.contains("segment -1 "),
        "the segment was not made: {tail}"
    );
    let segments = std::fs::read_to_string("/proc/sysvipc/shm").unwrap_or_default();
    assert!(
        !segments
            .lines()
            .any(|l| l.split_whitespace().nth(3) == Some(size.as_str())),
        "the segment outlived the run:\n{segments}"
    );
}

#[test]
fn the_machines_unix_domain_sockets_are_out_of_reach() {
    use std::os::unix::fs::PermissionsExt;
    if !system_python("unix sockets") {
        return;
    }
    // Services' sockets, open to every user, where services keep them.
    let mut paths = Vec::new();
    let mut listeners = Vec::new();
    for dir in ["/run", "/var/tmp"] {
        let path = PathBuf::from(format!(
            "{dir}/socket-lessons-test-{}.sock",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let Ok(listener) = std::os::unix::net::UnixListener::bind(&path) else {
            continue;
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
        paths.push(path);
        listeners.push(listener);
    }
    if paths.is_empty() {
        skip("unix sockets", "cannot make a socket in /run or /var/tmp");
        return;
    }
    let folder = Folder::new("unix");
    let dir = folder.student("student");
    let mut command = vec![
        "python3".to_owned(),
        "hostile.py".to_owned(),
        "unix".to_owned(),
    ];
    command.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let (_, report) = check(&dir, &[], &command);
    for path in &paths {
        let _ = std::fs::remove_file(path);
    }
    if without_namespaces("unix sockets", &report) {
        return;
    }
    let tail = tail(&report);
    assert!(tail.contains("could not connect"), "{tail}");
    assert!(!tail.contains("connected to"), "{tail}");
    drop(listeners);
}

#[test]
fn a_program_cannot_pass_for_one_that_could_not_be_started() {
    if !system_python("forged setup error") {
        return;
    }
    let folder = Folder::new("forged");
    let dir = folder.student("student");
    let (output, report) = check(&dir, &[], &["python3", "hostile.py", "forge-setup-error"]);
    // Its file is there: the program printed the runtime's message itself.
    // It is graded (and fails), not "not graded".
    assert_eq!(output.status.code(), Some(1), "{report:#}");
    let reason = report["checks"][0]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("exit status 2"), "{reason}");
    assert!(!reason.contains("could not be started"), "{reason}");
}

#[test]
fn a_program_that_cannot_be_started_still_gets_a_report_for_a_platform() {
    let folder = Folder::new("missing");
    let results = folder.0.join("results.json");
    let output = grader()
        .args(["check", "lesson-03", "--format", "gradescope", "--output"])
        .arg(&results)
        .args(["--dir"])
        .arg(&folder.0)
        .args(["--", "python3", "missing.py", "{port}"])
        .output()
        .unwrap();
    // Said once, exit status 2 ...
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot be started"), "{stderr}");
    // ... and Gradescope still gets a score: 0, with the reason.
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    assert_eq!(results["score"], 0);
    let first = results["tests"][0]["output"].as_str().unwrap_or("");
    assert!(first.contains("not graded"), "{first}");
}
