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
/// `Ok(None)` when no editor is set. The file is removed afterwards.
pub fn edit(initial: &str, extension: &str) -> Result<Option<String>, String> {
    let Some(command) = editor_command() else {
        return Ok(None);
    };
    let path: PathBuf = std::env::temp_dir().join(format!(
        "voucherdeck-{}-{}.{extension}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, initial).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let status = Command::new(&command[0])
        .args(&command[1..])
        .arg(&path)
        .status();
    let result = match status {
        Ok(s) if s.success() => std::fs::read_to_string(&path)
            .map(Some)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        Ok(s) => Err(format!("the editor {} exited with {s}", command[0])),
        Err(e) => Err(format!("cannot start the editor {}: {e}", command[0])),
    };
    let _ = std::fs::remove_file(&path);
    result
}
