//! Embeds the default notice as compact JSON: the widget parses it at run time, so the
//! source file's indentation would only be bytes every visitor downloads.

use std::path::Path;

const NOTICE: &str = "notices/qualys-privacy-highlights.en.json";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={NOTICE}");
    let text = std::fs::read_to_string(NOTICE)?;
    let value: serde_json::Value = serde_json::from_str(&text)?;
    let out = std::env::var("OUT_DIR")?;
    std::fs::write(
        Path::new(&out).join("notice.en.json"),
        serde_json::to_string(&value)?,
    )?;
    Ok(())
}
