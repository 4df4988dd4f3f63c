//! `manager-inspect --watch` in a real 80x24 terminal (a tmux pane): the
//! header stays on the first line with more objects than fit, no line is
//! wider than the terminal, sorting and filtering change the rows shown,
//! and `q`, Ctrl-C and SIGTERM end the program with the terminal restored.
//!
//! Skipped, with a message saying so, where tmux is not installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use manager::{Address, Manager};

/// What the pane's shell prints, with the exit status, once the program
/// has exited.
const EXITED: &str = "exited with status ";

/// How long any one thing may take to show before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

/// Objects in the manager: more than the 24 lines can show.
const OBJECTS: usize = 45;

/// A tmux server of the test's own (its socket in a temporary directory),
/// with one 80x24 session; killed on drop, with whatever runs in it, even
/// when an assertion fails.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Starts `program` with `args` and `env` in a new detached 80x24
    /// session, from a shell that then prints its exit status and the
    /// terminal's settings (`stty -a`) and waits.
    fn start(dir: &Path, program: &str, args: &[&str], env: (&str, &str)) -> anyhow::Result<Self> {
        let tmux = Tmux {
            socket: dir.join("tmux"),
        };
        let mut command = vec![program];
        command.extend_from_slice(args);
        let shell_command = command
            .iter()
            .map(|word| {
                anyhow::ensure!(!word.contains('\''), "a quote in {word}");
                Ok(format!("'{word}'"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?
            .join(" ");
        let env = format!("{}={}", env.0, env.1);
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "watch",
            "-x",
            "80",
            "-y",
            "24",
            "-e",
            &env,
            &format!("{shell_command}; echo \"{EXITED}$?\"; stty -a; exec sleep 600"),
        ])?;
        Ok(tmux)
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<Output> {
        let output = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()?;
        anyhow::ensure!(output.status.success(), "tmux {args:?}: {output:?}");
        Ok(output)
    }

    /// The pane's lines as they show now; a line that wrapped is one line
    /// here, longer than the pane is wide.
    fn screen(&self) -> anyhow::Result<Vec<String>> {
        let output = self.run(&["capture-pane", "-p", "-J", "-t", "watch"])?;
        Ok(String::from_utf8(output.stdout)?
            .lines()
            .map(str::to_owned)
            .collect())
    }

    /// A pane variable (`#{alternate_on}`, ...).
    fn pane(&self, format: &str) -> anyhow::Result<String> {
        let output = self.run(&["display-message", "-p", "-t", "watch", format])?;
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    }

    fn keys(&self, keys: &[&str]) -> anyhow::Result<()> {
        let mut args = vec!["send-keys", "-t", "watch"];
        args.extend_from_slice(keys);
        self.run(&args).map(drop)
    }

    /// Captures the pane until `done` holds for its lines, for at most
    /// [`DEADLINE`]; the screen that held, or an error with the last one.
    fn wait_for(
        &self,
        what: &str,
        done: impl Fn(&[String]) -> bool,
    ) -> anyhow::Result<Vec<String>> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let screen = self.screen()?;
            if done(&screen) {
                return Ok(screen);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "no {what} within {DEADLINE:?}; the screen:\n{}",
                screen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// Whether tmux can be run; if not, says the test is skipped.
fn tmux_installed(test: &str) -> bool {
    let installed = Command::new("tmux").arg("-V").output().is_ok();
    if !installed {
        eprintln!("SKIPPED {test}: tmux is not installed (apt-get install tmux)");
    }
    installed
}

/// `manager-inspect --watch` of `manager`, refreshed every 0.2 s, in an
/// 80x24 tmux pane whose server lives in `dir`.
fn watch(manager: &Manager, dir: &Path) -> anyhow::Result<Tmux> {
    let Address::Unix(socket) = manager.address() else {
        unreachable!("a Unix socket by default")
    };
    let key = manager.authkey().to_hex();
    Tmux::start(
        dir,
        env!("CARGO_BIN_EXE_manager-inspect"),
        &[
            "--unix",
            socket.to_str().expect("a UTF-8 path"),
            "--watch",
            "--interval",
            "0.2",
        ],
        ("MANAGER_AUTHKEY", &key),
    )
}

/// Waits for the program in the pane to exit, then checks that it left
/// the terminal as it found it: off the alternate screen, the cursor
/// shown, not in raw mode (`stty -a` says `icanon echo isig`). Its exit
/// status.
fn exit_status(tmux: &Tmux) -> anyhow::Result<String> {
    let screen = tmux.wait_for("the exit", |s| {
        s.iter().any(|l| l.starts_with(EXITED)) && s.iter().any(|l| l.contains("icanon"))
    })?;
    assert_eq!(tmux.pane("#{alternate_on}:#{cursor_flag}")?, "0:1");
    let settings: Vec<&str> = screen.iter().flat_map(|l| l.split_whitespace()).collect();
    for cooked in ["icanon", "echo", "isig"] {
        assert!(settings.contains(&cooked), "{cooked}: {screen:#?}");
    }
    let status = screen
        .iter()
        .find_map(|l| l.strip_prefix(EXITED))
        .unwrap_or_default();
    Ok(status.trim().to_owned())
}

/// The line `manager-inspect --watch` draws first.
fn is_header(screen: &[String]) -> bool {
    screen
        .first()
        .is_some_and(|l| l.starts_with("manager-inspect  up "))
}

/// The object rows shown, by name, top to bottom (not the line under the
/// table that shows the selected one in full, with its id).
fn rows(screen: &[String]) -> Vec<String> {
    screen
        .iter()
        .filter(|l| l.starts_with("obj-") && !l.contains("(id "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn first_row(screen: &[String]) -> Option<String> {
    rows(screen).into_iter().next()
}

/// Every line at most 80 columns wide (each character here is one column).
fn fits(screen: &[String]) -> bool {
    screen.len() <= 24 && screen.iter().all(|l| l.chars().count() <= 80)
}

#[test]
fn watch_fits_sorts_filters_and_quits_in_an_80x24_terminal() -> anyhow::Result<()> {
    if !tmux_installed("watch_fits_sorts_filters_and_quits_in_an_80x24_terminal") {
        return Ok(());
    }

    // obj-NN has had NN + 1 requests, so by requests obj-44 is first; obj-00
    // holds the most bytes; by name obj-00 is first.
    let manager = Manager::start()?;
    let client = manager.connect()?;
    for i in 0..OBJECTS {
        let list = client.list::<String>(&format!("obj-{i:02}"))?;
        list.append(&"x".repeat(if i == 0 { 10_000 } else { 1 }))?;
        for _ in 0..i {
            list.append(&String::new())?;
        }
    }

    let dir = tempfile::tempdir()?;
    let tmux = watch(&manager, dir.path())?;

    // The header on the first line, the table under it, nothing wider
    // than the terminal.
    let first = tmux.wait_for("the header and the objects", |s| {
        is_header(s) && first_row(s).is_some()
    })?;
    assert!(fits(&first), "{first:#?}");
    assert_eq!(tmux.pane("#{alternate_on}")?, "1");
    assert!(
        first[1].contains(&format!("objects {OBJECTS}")),
        "{first:#?}"
    );
    let shown = rows(&first).len();
    assert!((5..OBJECTS).contains(&shown), "{shown} rows: {first:#?}");
    // Sorted by mailbox depth (all empty), then by name.
    assert_eq!(first_row(&first).as_deref(), Some("obj-00"));

    // Refreshes redraw in place: the header stays on the first line.
    let uptime = |s: &[String]| s.first().cloned().unwrap_or_default();
    let later = tmux.wait_for("a refresh", |s| {
        is_header(s) && uptime(s) != uptime(&first) && first_row(s).is_some()
    })?;
    assert!(fits(&later), "{later:#?}");

    // `s`: by requests, then by bytes held.
    tmux.keys(&["s"])?;
    let by_requests = tmux.wait_for("the sort by requests", |s| {
        s.iter().any(|l| l.contains("sort: requests")) && first_row(s).as_deref() == Some("obj-44")
    })?;
    assert!(
        is_header(&by_requests) && fits(&by_requests),
        "{by_requests:#?}"
    );
    tmux.keys(&["s"])?;
    tmux.wait_for("the sort by bytes", |s| {
        s.iter().any(|l| l.contains("sort: bytes")) && first_row(s).as_deref() == Some("obj-00")
    })?;
    // `r` turns it around: the smallest first (obj-01, two short items).
    tmux.keys(&["r"])?;
    tmux.wait_for("the reversed sort", |s| {
        s.iter().any(|l| l.contains("sort: bytes ↑")) && first_row(s).as_deref() == Some("obj-01")
    })?;

    // `/3`: only names with a 3 (obj-03, 13, 23, 30 to 39, 43).
    tmux.keys(&["/", "3", "Enter"])?;
    let filtered = tmux.wait_for("the filter", |s| {
        s.iter().any(|l| l.contains("Objects 14/45")) && rows(s).len() == 14
    })?;
    assert!(
        rows(&filtered).iter().all(|name| name.contains('3')),
        "{filtered:#?}"
    );
    assert!(is_header(&filtered) && fits(&filtered), "{filtered:#?}");
    // Esc clears it.
    tmux.keys(&["Escape"])?;
    tmux.wait_for("the filter cleared", |s| {
        s.iter().any(|l| l.contains("Objects 45/45")) && rows(s).len() == shown
    })?;

    // End scrolls to the last row; the header stays.
    tmux.keys(&["End"])?;
    let end = tmux.wait_for("the end of the table", |s| {
        rows(s).last().is_some_and(|n| n == "obj-00")
    })?;
    assert!(is_header(&end) && fits(&end), "{end:#?}");

    // `q`: the program exits, successfully, with the terminal restored.
    tmux.keys(&["q"])?;
    assert_eq!(exit_status(&tmux)?, "0");
    let after = tmux.screen()?;
    assert!(!after.iter().any(|l| l.starts_with("obj-")), "{after:#?}");
    Ok(())
}

#[test]
fn watch_restores_the_terminal_on_ctrl_c_and_sigterm() -> anyhow::Result<()> {
    if !tmux_installed("watch_restores_the_terminal_on_ctrl_c_and_sigterm") {
        return Ok(());
    }
    let manager = Manager::start()?;
    manager.connect()?.queue::<u32>("jobs", None)?;
    // The pane's process is the shell; the inspector is its one child.
    let sigterm = |tmux: &Tmux| -> anyhow::Result<()> {
        let shell = tmux.pane("#{pane_pid}")?;
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))?;
        let [inspector] = children.split_whitespace().collect::<Vec<_>>()[..] else {
            anyhow::bail!("the shell's children: {children}");
        };
        let killed = Command::new("kill").args(["-TERM", inspector]).status()?;
        anyhow::ensure!(killed.success(), "kill -TERM {inspector}");
        Ok(())
    };
    for how in ["Ctrl-C", "SIGTERM"] {
        let dir = tempfile::tempdir()?;
        let tmux = watch(&manager, dir.path())?;
        tmux.wait_for("the view", |s| {
            is_header(s) && s.iter().any(|l| l.starts_with("jobs "))
        })?;
        assert_eq!(tmux.pane("#{alternate_on}:#{cursor_flag}")?, "1:0", "{how}");
        match how {
            "Ctrl-C" => tmux.keys(&["C-c"])?,
            _ => sigterm(&tmux)?,
        }
        assert_eq!(exit_status(&tmux)?, "0", "{how}");
    }
    Ok(())
}
