//! `assent-notice check FILE` validates a notice document; `assent-notice hash FILE`
//! prints its content hash and `assent-notice optional FILE` its optional purposes' ids,
//! dot-separated (the build uses both so the loader can tell, without the wasm, whether a
//! stored choice or a shared cookie was made under the embedded notice).

use std::process::ExitCode;

use assent_record::Notice;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, path) = match args.as_slice() {
        [command, path] if ["check", "hash", "optional"].contains(&command.as_str()) => {
            (command.as_str(), path.as_str())
        }
        _ => {
            eprintln!("usage: assent-notice check|hash|optional NOTICE.json");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("assent-notice: can't read {path}: {err}");
            return ExitCode::FAILURE;
        }
    };
    match serde_json::from_str::<Notice>(&text) {
        Ok(notice) if command == "hash" => println!("{}", notice.hash()),
        Ok(notice) if command == "optional" => {
            let ids: Vec<&str> = notice.optional_purposes().map(|p| p.id.as_str()).collect();
            println!("{}", ids.join("."));
        }
        Ok(notice) => println!(
            "{path}: valid notice {} version {}",
            notice.id, notice.version
        ),
        Err(err) => {
            eprintln!("{path}: invalid notice: {err}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
