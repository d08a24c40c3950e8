//! Embeds the default notice as compact JSON and the stylesheet minified: the widget
//! carries both as text, so the sources' comments and indentation would only be bytes
//! every visitor downloads.

use std::path::Path;

const NOTICE: &str = "notices/qualys-privacy-highlights.en.json";
const CSS: &str = "src/ui/widget.css";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={NOTICE}");
    println!("cargo:rerun-if-changed={CSS}");
    let out = std::env::var("OUT_DIR")?;
    let notice: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(NOTICE)?)?;
    std::fs::write(
        Path::new(&out).join("notice.en.json"),
        serde_json::to_string(&notice)?,
    )?;
    let css = std::fs::read_to_string(CSS)?;
    let minified = minifier::css::minify(&css)?.to_string();
    std::fs::write(Path::new(&out).join("widget.css"), minified)?;
    Ok(())
}
