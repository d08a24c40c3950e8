//! Embeds the default notice as compact JSON and the highlights' stylesheet minified (the widget
//! carries both as text, so the sources' comments and indentation would only be bytes
//! every visitor downloads), and writes the English catalogue from `locales/en.json`, the
//! file the other languages are checked against (`scripts/check-locales.py`): a word added
//! or missing on either side fails the build.

use std::error::Error;
use std::path::Path;

const NOTICE: &str = "notices/qualys-privacy-highlights.en.json";
const CSS: &str = "src/ui/highlights.css";
const ENGLISH: &str = "locales/en.json";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={NOTICE}");
    println!("cargo:rerun-if-changed={CSS}");
    println!("cargo:rerun-if-changed={ENGLISH}");
    let out = std::env::var("OUT_DIR")?;
    let notice: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(NOTICE)?)?;
    std::fs::write(
        Path::new(&out).join("notice.en.json"),
        serde_json::to_string(&notice)?,
    )?;
    let css = std::fs::read_to_string(CSS)?;
    let minified = minifier::css::minify(&css)?.to_string();
    std::fs::write(Path::new(&out).join("highlights.css"), minified)?;
    let english = std::fs::read_to_string(ENGLISH)?;
    std::fs::write(Path::new(&out).join("messages_en.rs"), catalogue(&english)?)?;
    Ok(())
}

/// A locale file's language and messages, the messages in the file's order.
#[derive(serde::Deserialize)]
struct Locale {
    language: String,
    messages: InOrder,
}

/// A JSON object's entries in the order written (serde_json's `Map` sorts them).
struct InOrder(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for InOrder {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = InOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of texts")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<InOrder, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(InOrder(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

/// `pub const EN: Messages = …` of a locale file, and `Messages::from_texts`, which takes
/// the texts of another language in the same order: the order of `locales/en.json`, as
/// `scripts/build-locales.mjs` lists them (the banner's words first, which the loader
/// takes from a language file as they come).
fn catalogue(locale: &str) -> Result<String, Box<dyn Error>> {
    let Locale { language, messages } = serde_json::from_str(locale)?;
    let mut english = format!(
        "/// English, from `{ENGLISH}`.\npub const EN: Messages = Messages {{\n    language: {language:?},\n    rtl: false,\n"
    );
    for (key, text) in &messages.0 {
        english.push_str(&format!("    {key}: {text:?},\n"));
    }
    english.push_str("};\n");
    let keys: Vec<&str> = messages.0.iter().map(|(key, _)| key.as_str()).collect();
    let names = keys.join(", ");
    Ok(format!(
        "{english}\n/// How many texts a catalogue has.\npub const TEXTS: usize = {count};\n\n\
         /// The texts' keys, in the order `from_texts` takes them.\npub const KEYS: [&str; TEXTS] = {keys:?};\n\n\
         impl Messages {{\n    /// A catalogue from its texts, in the order of `locales/en.json`.\n    \
         pub fn from_texts(language: &'static str, rtl: bool, texts: [&'static str; TEXTS]) -> Self {{\n        \
         let [{names}] = texts;\n        Self {{ language, rtl, {names} }}\n    }}\n}}\n",
        count = keys.len()
    ))
}
