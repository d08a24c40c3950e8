//! `link`: mints a manage link for one address and prints it as one JSON line.

use std::process::ExitCode;

use super::CommandError;
use crate::config::{ConfigError, LinkArgs};
use crate::keys;
use crate::link::{self, LinkRequest, PublicUrl};
use crate::subject::SubjectKey;
use crate::token::LinkKey;

/// `link`: the same JSON as `POST /v1/links`.
pub fn link(args: LinkArgs) -> Result<ExitCode, CommandError> {
    let request = LinkRequest::new(
        &args.email,
        &args.sites,
        &args.page,
        args.purpose.as_deref(),
        args.ttl,
    )?;
    let config = &args.config;
    let subject_key = config.needed(args.subject_key, |file| &file.subject_key, "--subject-key")?;
    let link_key = config.needed(args.link_key, |file| &file.link_key, "--link-key")?;
    let public_url: PublicUrl = config
        .needed(args.public_url, |file| &file.public_url, "--public-url")?
        .parse()
        .map_err(ConfigError::from)?;
    let subject_key = SubjectKey::new(keys::read_made(&subject_key)?);
    let link_key = LinkKey::ring(keys::read_made_ring(&link_key)?)
        .ok_or_else(|| keys::KeyError::Form(link_key.clone()))?;
    let link = link::mint(&link_key, &subject_key, &public_url, request)?;
    // Fields in the order of the struct, as `POST /v1/links` answers them.
    let line = serde_json::to_string(&link).map_err(std::io::Error::from)?;
    println!("{line}");
    Ok(ExitCode::SUCCESS)
}
