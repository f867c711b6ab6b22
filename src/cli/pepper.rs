//! The secret that keys the stored hashes of API keys: from `VOUCHERDECK_KEY_PEPPER`, or from the
//! file `VOUCHERDECK_KEY_PEPPER_FILE` names (a mounted secret), with an optional previous one
//! (`VOUCHERDECK_KEY_PEPPER_PREVIOUS[_FILE]`) still accepted while keys are re-issued. On AWS,
//! `serve` and `keys create` refuse to start without one; only the embedded backend, whose keys
//! live as long as the process, falls back to the built-in demo pepper.

use super::error::CliError;

/// The shortest pepper accepted: as long as the hash it keys (HMAC-SHA-256).
pub const PEPPER_MIN_BYTES: usize = 32;

/// How to configure and rotate the pepper, for errors and help.
pub const HOW: &str = "set VOUCHERDECK_KEY_PEPPER (or VOUCHERDECK_KEY_PEPPER_FILE, the path of a file \
    holding it) to the same secret of at least 32 bytes on every server and wherever `keys create` \
    runs, e.g. `openssl rand -base64 32`. To rotate it: set the new one, and the old one as \
    VOUCHERDECK_KEY_PEPPER_PREVIOUS, on every server; re-create the keys; then drop the old one";

/// The peppers this process uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peppers {
    /// The current pepper; `None`: none configured (the built-in demo one is used).
    pub current: Option<String>,
    /// A previous pepper, still accepted when verifying keys.
    pub previous: Option<String>,
}

/// Reads the peppers from the environment (`lookup`: `std::env::var`, or a test's map).
pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Peppers, CliError> {
    Ok(Peppers {
        current: one(&lookup, "VOUCHERDECK_KEY_PEPPER")?,
        previous: one(&lookup, "VOUCHERDECK_KEY_PEPPER_PREVIOUS")?,
    })
}

/// The pepper `var` gives, or the file `var_FILE` names (trailing newline trimmed); both set is a
/// mistake, as is a pepper shorter than [`PEPPER_MIN_BYTES`].
fn one(lookup: &impl Fn(&str) -> Option<String>, var: &str) -> Result<Option<String>, CliError> {
    let file_var = format!("{var}_FILE");
    let direct = lookup(var).filter(|v| !v.is_empty());
    let path = lookup(&file_var).filter(|v| !v.is_empty());
    let value = match (direct, path) {
        (Some(_), Some(_)) => {
            return Err(CliError::Usage(format!(
                "{var} and {file_var} are both set; set one"
            )));
        }
        (Some(v), None) => v,
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map_err(|e| CliError::Usage(format!("{file_var}: cannot read {path}: {e}")))?
            .trim_end_matches(['\n', '\r'])
            .to_string(),
        (None, None) => return Ok(None),
    };
    if value.len() < PEPPER_MIN_BYTES {
        return Err(CliError::Usage(format!(
            "{var} must be at least {PEPPER_MIN_BYTES} bytes (it is {}); {HOW}",
            value.len()
        )));
    }
    Ok(Some(value))
}

/// Refuses `what` on AWS without a configured pepper: its keys would be hashed with a public
/// constant.
pub fn require(peppers: &Peppers, what: &str) -> Result<(), CliError> {
    if peppers.current.is_some() {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "{what} needs the API key pepper on AWS (the built-in one is public and only for the \
         embedded demo): {HOW}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn from_a_variable_or_a_file_never_both_never_short() {
        let long = "p".repeat(32);
        let p = from_env(env(&[("VOUCHERDECK_KEY_PEPPER", &long)])).expect("ok");
        assert_eq!(p.current.as_deref(), Some(long.as_str()));
        assert_eq!(p.previous, None);

        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("pepper");
        std::fs::write(&path, format!("{long}\n")).expect("write");
        let path = path.to_str().expect("utf8");
        let p = from_env(env(&[("VOUCHERDECK_KEY_PEPPER_FILE", path)])).expect("ok");
        assert_eq!(p.current.as_deref(), Some(long.as_str()));

        let both = from_env(env(&[
            ("VOUCHERDECK_KEY_PEPPER", &long),
            ("VOUCHERDECK_KEY_PEPPER_FILE", path),
        ]));
        assert!(both.is_err_and(|e| e.to_string().contains("both set")));
        let short = from_env(env(&[("VOUCHERDECK_KEY_PEPPER_PREVIOUS", "short")]));
        assert!(short.is_err_and(|e| e.to_string().contains("at least 32 bytes")));
        let none = from_env(env(&[])).expect("ok");
        assert!(require(&none, "serve").is_err_and(|e| e.to_string().contains("openssl rand")));
    }
}
