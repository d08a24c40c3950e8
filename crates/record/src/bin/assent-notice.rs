//! `assent-notice check FILE` validates a notice document; `assent-notice hash FILE`
//! prints its content hash (the build uses it so the loader can tell, without the wasm,
//! whether a stored choice was made under the embedded notice).

use std::process::ExitCode;

use assent_record::Notice;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, path) = match args.as_slice() {
        [command, path] if command == "check" || command == "hash" => {
            (command.as_str(), path.as_str())
        }
        _ => {
            eprintln!("usage: assent-notice check|hash NOTICE.json");
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
