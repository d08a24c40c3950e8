//! `link`: mints a manage link for one address and prints it as one JSON line.

use std::process::ExitCode;

use super::CommandError;
use crate::config::{parse_origins, ConfigError, LinkArgs, DEFAULT_ORIGINS};
use crate::keys;
use crate::link::{self, LinkRequest, PublicUrl};
use crate::subject::SubjectKey;
use crate::token::LinkKey;

/// `link`: the same JSON as `POST /v1/links`.
pub fn link(args: LinkArgs) -> Result<ExitCode, CommandError> {
    let config = &args.config;
    // The origins `serve` takes records from, as it finds them.
    let covered = config
        .or_file(args.allowed_origins, |file| &file.allowed_origins)?
        .unwrap_or_else(|| DEFAULT_ORIGINS.map(str::to_owned).to_vec());
    let request = LinkRequest::new(
        &args.email,
        &args.sites,
        &args.page,
        args.purpose.as_deref(),
        args.ttl,
        &parse_origins(&covered)?,
    )?;
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
    super::print_line(line)?;
    Ok(ExitCode::SUCCESS)
}
