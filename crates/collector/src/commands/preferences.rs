//! `preferences`: one person's current preferences.

use std::process::ExitCode;

use assent_record::Email;

use super::CommandError;
use crate::config::PreferencesArgs;
use crate::keys;
use crate::preferences::Preferences;
use crate::store::Store;
use crate::subject::SubjectKey;

/// `preferences`: prints `{"subject", "purposes"}` as one JSON line, as
/// `POST /v1/subjects/lookup` answers it.
pub async fn preferences(args: PreferencesArgs) -> Result<ExitCode, CommandError> {
    let email = Email::try_from(args.email.trim())
        .map_err(|_| CommandError::Usage("--email must be an e-mail address"))?;
    let config = &args.database.config;
    let subject_key = config.needed(args.subject_key, |file| &file.subject_key, "--subject-key")?;
    let subject = SubjectKey::new(keys::read(&subject_key)?).subject(&email);
    let store = Store::open_existing(&args.database.database()?).await?;
    let preferences = Preferences::of(&store, subject).await;
    store.close().await;
    let json = serde_json::to_string(&preferences?)
        .map_err(|err| CommandError::Io(std::io::Error::other(err)))?;
    super::print_line(json)?;
    Ok(ExitCode::SUCCESS)
}
