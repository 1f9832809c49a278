//! A schema model's fingerprint.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::SchemaModel;

/// A SHA-256 over a schema model's canonical JSON: equal fingerprints mean
/// equal schemas, whatever their names.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(model: &SchemaModel) -> Fingerprint {
        // Every model serializes (a test makes sure); were one not to, its
        // debug form still tells it from others.
        let json = serde_json::to_vec(model).unwrap_or_else(|_| format!("{model:?}").into_bytes());
        Fingerprint(Sha256::digest(&json).into())
    }

    /// The fingerprint of a schema that does not exist.
    pub fn absent() -> Fingerprint {
        Fingerprint([0; 32])
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_string()
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({})", self.short())
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.to_string()
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        if text.len() != 64 {
            return Err(format!(
                "a fingerprint has 64 hex digits, not {}",
                text.len()
            ));
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(Fingerprint(bytes))
    }
}
