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
    let english: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(ENGLISH)?)?;
    std::fs::write(Path::new(&out).join("messages_en.rs"), catalogue(&english)?)?;
    Ok(())
}

/// `pub const EN: Messages = …` of a locale file, and `Messages::from_texts`, which takes
/// the texts of another language in the same order: the keys sorted, as
/// `scripts/build-locales.mjs` lists them.
fn catalogue(locale: &serde_json::Value) -> Result<String, Box<dyn Error>> {
    let language = locale["language"]
        .as_str()
        .ok_or("a locale file needs a language")?;
    let messages = locale["messages"]
        .as_object()
        .ok_or("a locale file needs messages")?;
    let mut keys: Vec<&String> = messages.keys().collect();
    keys.sort();
    let mut english = format!(
        "/// English, from `{ENGLISH}`.\npub const EN: Messages = Messages {{\n    language: {language:?},\n    rtl: false,\n"
    );
    for key in &keys {
        let text = messages[key.as_str()]
            .as_str()
            .ok_or_else(|| format!("{ENGLISH}: {key} is not text"))?;
        english.push_str(&format!("    {key}: {text:?},\n"));
    }
    english.push_str("};\n");
    let names = keys
        .iter()
        .map(|key| key.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!(
        "{english}\n/// How many texts a catalogue has.\npub const TEXTS: usize = {count};\n\n\
         impl Messages {{\n    /// A catalogue from its texts, in the keys' sorted order.\n    \
         pub fn from_texts(language: &'static str, rtl: bool, texts: [&'static str; TEXTS]) -> Self {{\n        \
         let [{names}] = texts;\n        Self {{ language, rtl, {names} }}\n    }}\n}}\n",
        count = keys.len()
    ))
}
