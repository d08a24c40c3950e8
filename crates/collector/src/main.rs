use std::process::ExitCode;

use assent_collector::commands;
use assent_collector::config::{Cli, Command};
use assent_collector::listener::Passed;
use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if std::env::var_os("RUST_LOG").is_some() && EnvFilter::try_from_default_env().is_err() {
        tracing::warn!("RUST_LOG is not a log filter (such as info, or assent_collector=debug): logging at info");
    }
    for variable in Cli::unread_variables() {
        tracing::warn!(
            variable,
            "no setting of assent-collector has this environment variable: ignored"
        );
    }
    // Before the runtime's threads start: taking the socket edits the environment.
    let passed = match cli.command {
        Command::Serve(_) => Passed::from_env(),
        _ => Passed::none(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("assent-collector: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => commands::serve(args.resolve()?, passed).await,
            Command::Verify(args) => commands::verify(args).await,
            Command::Export(args) => commands::export(args).await,
            Command::Keygen(args) => commands::keygen(args),
            Command::Link(args) => commands::link(args),
            Command::Preferences(args) => commands::preferences(args).await,
            Command::Requeue(args) => commands::requeue(args).await,
        }
    });
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("assent-collector: {err}");
            ExitCode::FAILURE
        }
    }
}
