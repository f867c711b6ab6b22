//! Editing text in the user's editor ($VISUAL, else $EDITOR): a front-end helper for the dashboard
//! and the headless commands (the caller hands the terminal over while it runs).

use std::path::PathBuf;
use std::process::Command;

/// The editor command, split into program and arguments (`code -w` works).
pub fn editor_command() -> Option<Vec<String>> {
    ["VISUAL", "EDITOR"].iter().find_map(|var| {
        let value = std::env::var(var).ok()?;
        let parts: Vec<String> = value.split_whitespace().map(String::from).collect();
        (!parts.is_empty()).then_some(parts)
    })
}

/// Opens `initial` in the editor in a temporary `*.{extension}` file and returns what was saved;
/// `Ok(None)` when no editor is set. The text may hold a recipient, so the file is made readable by
/// its owner only (0600), in a directory of its own (0700), and both are removed on every way out
/// (a failed editor, a panic unwinding).
pub fn edit(initial: &str, extension: &str) -> Result<Option<String>, String> {
    match editor_command() {
        Some(command) => edit_with(&command, initial, extension).map(Some),
        None => Ok(None),
    }
}

/// [`edit`] with the editor `command` (program and arguments).
fn edit_with(command: &[String], initial: &str, extension: &str) -> Result<String, String> {
    let program = command.first().ok_or("no editor command")?;
    let dir = tempfile::Builder::new()
        .prefix("voucherdeck-edit-")
        .tempdir()
        .map_err(|e| format!("cannot make a private directory for the editor: {e}"))?;
    #[cfg(unix)]
    {
        // Private before anything is put in it (the file is 0600 besides).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot make {} private: {e}", dir.path().display()))?;
    }
    let path: PathBuf = dir.path().join(format!("message.{extension}"));
    write_private(&path, initial).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let status = Command::new(program)
        .args(&command[1..])
        .arg(&path)
        .status();
    match status {
        Ok(s) if s.success() => std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        Ok(s) => Err(format!("the editor {program} exited with {s}")),
        Err(e) => Err(format!("cannot start the editor {program}: {e}")),
    }
    // `dir` is removed here, with the file, whatever the outcome.
}

/// Creates `path` readable and writable by its owner only, holding `text`.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The editor sees a private file in a private directory, and both are gone afterwards, also
    /// when the editor fails.
    #[cfg(unix)]
    #[test]
    fn the_file_is_private_and_removed_on_every_way_out() {
        use std::os::unix::fs::PermissionsExt;
        let seen = tempfile::tempdir().expect("dir");
        let log = seen.path().join("seen");
        for exit in [0, 3] {
            // An "editor" that records the modes of its file and of the file's directory, and the
            // path, then exits with `exit`.
            let script = seen.path().join(format!("editor-{exit}.sh"));
            std::fs::write(
                &script,
                format!(
                    "#!/bin/sh\nstat -c '%a' \"$1\" > {log}\nstat -c '%a' \"$(dirname \"$1\")\" >> {log}\n\
                     echo \"$1\" >> {log}\nexit {exit}\n",
                    log = log.display()
                ),
            )
            .expect("script");
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700))
                .expect("chmod");
            let command = vec![script.display().to_string()];
            let out = edit_with(&command, "{\"recipient\":\"ada@example.com\"}\n", "json");
            assert_eq!(out.is_ok(), exit == 0, "{out:?}");
            let said = std::fs::read_to_string(&log).expect("the editor ran");
            let lines: Vec<&str> = said.lines().collect();
            assert_eq!(
                &lines[..2],
                ["600", "700"],
                "file and directory modes: {said}"
            );
            let path = std::path::Path::new(lines[2]);
            assert!(!path.exists(), "the file is gone: {}", path.display());
            assert!(
                path.parent().is_some_and(|d| !d.exists()),
                "the directory is gone: {}",
                path.display()
            );
        }
    }
}
