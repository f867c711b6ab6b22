//! Key bindings as data: an [`Action`] enum, defaults in `assets/keymap.toml`, an optional user overlay.
//! The footer and the help screen are generated from the same map, so the hints never lie.

mod action;
mod binding;

use std::collections::BTreeMap;
use std::path::Path;

use crossterm::event::KeyEvent;

use action::from_name;

pub use action::{Action, Layer};
pub use binding::KeyBinding;

/// The default bindings, compiled in.
pub const DEFAULT_KEYMAP: &str = include_str!("../../../../assets/keymap.toml");

/// A keymap error, naming where the bad entry is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("keymap {source_name}: {message}")]
pub struct KeyMapError {
    pub source_name: String,
    pub message: String,
}

/// Bindings per layer, in declaration order of [`Action`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    layers: BTreeMap<Layer, BTreeMap<Action, Vec<KeyBinding>>>,
}

type RawMap = BTreeMap<String, BTreeMap<String, Vec<String>>>;

impl KeyMap {
    /// The compiled-in defaults.
    pub fn defaults() -> KeyMap {
        match KeyMap::empty().overlay_str(DEFAULT_KEYMAP, "assets/keymap.toml") {
            Ok(map) => map,
            Err(e) => {
                // The embedded file is covered by a test; never reached in a released build.
                tracing::error!("{e}");
                KeyMap::empty()
            }
        }
    }

    fn empty() -> KeyMap {
        KeyMap {
            layers: BTreeMap::new(),
        }
    }

    /// The defaults overlaid with a user file, if it exists. A missing file is not an error when
    /// `required` is false (the default location); a malformed one always is.
    pub fn load(path: Option<&Path>, required: bool) -> Result<KeyMap, KeyMapError> {
        let defaults = KeyMap::defaults();
        let Some(path) = path else {
            return Ok(defaults);
        };
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => defaults.overlay_str(&text, &name),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(defaults),
            Err(e) => Err(KeyMapError {
                source_name: name,
                message: e.to_string(),
            }),
        }
    }

    /// Overlays bindings given as TOML text: each named action gets exactly the listed keys.
    pub fn overlay_str(mut self, text: &str, source_name: &str) -> Result<KeyMap, KeyMapError> {
        let err = |message: String| KeyMapError {
            source_name: source_name.to_string(),
            message,
        };
        let raw: RawMap = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        for (layer_name, actions) in raw {
            let layer = from_name::<Layer>(&layer_name).ok_or_else(|| {
                err(format!(
                    "unknown layer [{layer_name}] (layers: global, overview, dashboard, dlq_browser, form, confirm, popup, input)"
                ))
            })?;
            for (action_name, keys) in actions {
                let action = from_name::<Action>(&action_name)
                    .ok_or_else(|| err(format!("[{layer_name}] unknown action {action_name:?}")))?;
                let parsed = keys
                    .iter()
                    .map(|k| KeyBinding::parse(k))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| err(format!("[{layer_name}] {action_name}: {e}")))?;
                self.layers.entry(layer).or_default().insert(action, parsed);
            }
        }
        Ok(self)
    }

    /// The action a key triggers in one layer.
    pub fn action(&self, layer: Layer, key: &KeyEvent) -> Option<Action> {
        let kb = KeyBinding::from_event(key);
        self.layers
            .get(&layer)?
            .iter()
            .find(|(_, keys)| keys.contains(&kb))
            .map(|(a, _)| *a)
    }

    /// The bindings of one layer, in [`Action`] order.
    pub fn bindings(&self, layer: Layer) -> impl Iterator<Item = (Action, &[KeyBinding])> {
        self.layers
            .get(&layer)
            .into_iter()
            .flat_map(|m| m.iter().map(|(a, k)| (*a, k.as_slice())))
    }

    /// Whether a key is bound to anything in a layer (a screen's binding shadows the global one).
    pub fn binds(&self, layer: Layer, key: &KeyBinding) -> bool {
        self.layers
            .get(&layer)
            .is_some_and(|m| m.values().any(|keys| keys.contains(key)))
    }

    /// The first key bound to an action in a layer, for hints (`"n"`), or `None` when unbound.
    pub fn first_key(&self, layer: Layer, action: Action) -> Option<KeyBinding> {
        self.layers.get(&layer)?.get(&action)?.first().copied()
    }

    /// Like [`KeyMap::first_key`], as text; `"?"` placeholders never appear: unbound gives `"(unbound)"`.
    pub fn hint(&self, layer: Layer, action: Action) -> String {
        self.first_key(layer, action)
            .map_or_else(|| "(unbound)".to_string(), |k| k.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_parse_and_route() {
        let map = KeyMap::empty()
            .overlay_str(DEFAULT_KEYMAP, "default")
            .expect("default keymap parses");
        assert_eq!(
            map.action(Layer::Global, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(
                Layer::Global,
                &key(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(
                Layer::Dashboard,
                &key(KeyCode::Char('G'), KeyModifiers::SHIFT)
            ),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(
                Layer::Dashboard,
                &key(KeyCode::Char('g'), KeyModifiers::NONE)
            ),
            Some(Action::Top)
        );
        assert_eq!(
            map.action(Layer::Form, &key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevField)
        );
        assert_eq!(
            map.action(
                Layer::DlqBrowser,
                &key(KeyCode::Char(' '), KeyModifiers::NONE)
            ),
            Some(Action::Select)
        );
        assert_eq!(map.hint(Layer::Dashboard, Action::Gift), "n");
    }

    #[test]
    fn every_layer_has_its_exit() {
        let map = KeyMap::defaults();
        assert!(map.first_key(Layer::Global, Action::Quit).is_some());
        assert!(map.first_key(Layer::Form, Action::Cancel).is_some());
        assert!(map.first_key(Layer::Confirm, Action::Cancel).is_some());
        assert!(map.first_key(Layer::Popup, Action::Close).is_some());
        assert!(map.first_key(Layer::Input, Action::Cancel).is_some());
    }

    #[test]
    fn overlay_replaces_keys_of_named_actions() {
        let map = KeyMap::defaults()
            .overlay_str("[dashboard]\ngift = [\"ctrl-g\", \"F2\"]\n", "user")
            .expect("overlay");
        assert_eq!(
            map.action(
                Layer::Dashboard,
                &key(KeyCode::Char('n'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(
            map.action(
                Layer::Dashboard,
                &key(KeyCode::Char('g'), KeyModifiers::CONTROL)
            ),
            Some(Action::Gift)
        );
        assert_eq!(
            map.action(Layer::Dashboard, &key(KeyCode::F(2), KeyModifiers::NONE)),
            Some(Action::Gift)
        );
        assert_eq!(map.hint(Layer::Dashboard, Action::Gift), "ctrl-g");
        // Untouched actions keep their defaults.
        assert_eq!(
            map.action(
                Layer::Dashboard,
                &key(KeyCode::Char('r'), KeyModifiers::NONE)
            ),
            Some(Action::Redrive)
        );
    }

    #[test]
    fn overlay_errors_name_the_entry() {
        let e = KeyMap::defaults()
            .overlay_str("[dashboard]\nfly = [\"f\"]\n", "user.toml")
            .expect_err("bad action");
        assert!(e.to_string().contains("fly"), "{e}");
        let e = KeyMap::defaults()
            .overlay_str("[nowhere]\nquit = [\"q\"]\n", "user.toml")
            .expect_err("bad layer");
        assert!(e.to_string().contains("nowhere"), "{e}");
        let e = KeyMap::defaults()
            .overlay_str("[global]\nquit = [\"hyper-q\"]\n", "user.toml")
            .expect_err("bad key");
        assert!(e.to_string().contains("hyper-q"), "{e}");
    }
}
