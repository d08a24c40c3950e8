//! Command line, environment and config file. Every setting of `serve` is a flag, an
//! `ASSENT_*` environment variable and a key of the TOML file given by `--config`; flags and
//! variables win over the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

use crate::store::Database;

/// The six covered sites of the default notice.
pub const DEFAULT_ORIGINS: [&str; 6] = [
    "https://www.qualys.com",
    "https://qualysguard.qualys.com",
    "https://pci.qualys.com",
    "https://freescan.qualys.com",
    "https://sans20.qualys.com",
    "https://freemap.qualys.com",
];

/// Default database: an SQLite file in the working directory.
pub const DEFAULT_DATABASE: &str = "assent.db";
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// Default requests per client IP per minute (see `ServeArgs::rate_per_ip`).
pub const DEFAULT_RATE_PER_IP: u32 = 120;
/// Default POSTs per site per minute.
pub const DEFAULT_RATE_PER_SITE: u32 = 6000;

/// Assent collector: stores consent records in a tamper-evident chain and signs receipts.
#[derive(Debug, Parser)]
#[command(name = "assent-collector", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The `ASSENT_*` variables of the environment that no command reads: a misspelt one
    /// (`ASSENT_NOTICE` for `ASSENT_NOTICES`, or a hidden setting's, which has none) would
    /// otherwise leave its setting at its default without a word.
    pub fn unread_variables() -> Vec<String> {
        let command = <Self as clap::CommandFactory>::command();
        let read: Vec<String> = command
            .get_subcommands()
            .flat_map(clap::Command::get_arguments)
            .filter_map(|arg| arg.get_env())
            .map(|name| name.to_string_lossy().into_owned())
            .collect();
        let mut unread: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .filter(|name| name.starts_with("ASSENT_") && !read.contains(name))
            .collect();
        unread.sort();
        unread
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
// Made once per process: boxing `serve`'s many settings would save nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Re-walk the hash chain and report the first broken link, or check one receipt or
    /// receipt file.
    Verify(VerifyArgs),
    /// Print stored records as NDJSON, one per line, in chain order.
    Export(ExportArgs),
    /// Create key files: a receipt signing key (its public JWK set is printed), a subject
    /// key, a link key; or add a receipt key to its ring with `--rotate`.
    Keygen(KeygenArgs),
    /// Mint a signed manage link for one address and print it as one JSON line.
    Link(LinkArgs),
    /// Print one person's current preferences as JSON: each purpose's state, basis and the
    /// record that set it.
    Preferences(PreferencesArgs),
    /// Put the webhook deliveries given up on (`failed`) back in the queue, each with a new
    /// retry window, and resume posting to an endpoint that answered 410 Gone: the `serve`
    /// processes post them again. Prints how many of each.
    Requeue(RequeueArgs),
}

/// `serve` options.
#[derive(Debug, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (keys as the flags, with `_` for `-`).
    #[arg(long, env = "ASSENT_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// `postgres://…` URL, `sqlite:<file>` or an SQLite file path [default: assent.db].
    #[arg(long, env = "ASSENT_DATABASE")]
    pub database: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8787]; not used when a service manager
    /// passes a listening socket (systemd socket activation, `LISTEN_FDS`).
    #[arg(long, env = "ASSENT_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Origins allowed to POST records, comma-separated, e.g. `https://pci.qualys.com`
    /// [default: the six covered Qualys sites].
    #[arg(long, env = "ASSENT_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Option<Vec<String>>,
    /// Directory of static files to serve at `/` (the demo); `.br` files are used when the
    /// browser accepts brotli.
    #[arg(long, env = "ASSENT_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
    /// Receipt signing key file, created if missing [default: a new key per start].
    #[arg(long, env = "ASSENT_RECEIPT_KEY")]
    pub receipt_key: Option<PathBuf>,
    /// Subject HMAC key file, created if missing [default: a new key per start].
    #[arg(long, env = "ASSENT_SUBJECT_KEY")]
    pub subject_key: Option<PathBuf>,
    /// Requests per client IP per minute to the record, receipt, identity and unsubscribe
    /// routes; 0 turns the limit off [default: 120].
    #[arg(long, env = "ASSENT_RATE_PER_IP")]
    pub rate_per_ip: Option<u32>,
    /// POSTs per site per minute; 0 turns the limit off [default: 6000].
    #[arg(long, env = "ASSENT_RATE_PER_SITE")]
    pub rate_per_site: Option<u32>,
    /// Behind a reverse proxy: the header it puts the client's IP in (`x-real-ip`,
    /// `x-forwarded-for` or `forwarded`, whose last entry is used). Only set this when
    /// every request comes through that proxy, or clients can pick their own bucket.
    #[arg(long, env = "ASSENT_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// File of admin bearer keys, one per line (at least 32 characters each), for the
    /// routes the company's own servers call [default: none, and those routes refuse].
    #[arg(long, env = "ASSENT_ADMIN_KEYS")]
    pub admin_keys: Option<PathBuf>,
    /// Link token key file (HMAC), created if missing [default: a new key per start].
    #[arg(long, env = "ASSENT_LINK_KEY")]
    pub link_key: Option<PathBuf>,
    /// The address the collector is reached at from outside, for unsubscribe links and the
    /// receipt files' key address [default: http://<listen address>].
    #[arg(long, env = "ASSENT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Notice documents whose records get receipt files naming the notice's organisation
    /// and contact as the controller, matched by notice id; repeat the flag or separate
    /// with commas [default: the widget's default notice only].
    #[arg(long = "notice", env = "ASSENT_NOTICES", value_delimiter = ',')]
    #[serde(rename = "notice")]
    pub notices: Option<Vec<PathBuf>>,
    /// POST every change (a record with a subject) to this URL, signed the Standard
    /// Webhooks way; https (http only for localhost) [default: no webhooks].
    #[arg(long, env = "ASSENT_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// File with the webhook signing secret (`whsec_<base64>`), created if missing; needed
    /// with `--webhook-url`.
    #[arg(long, env = "ASSENT_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// First wait before retrying a failed delivery, e.g. `10s` (doubles each time).
    #[arg(long, hide = true)]
    pub webhook_retry_base: Option<String>,
    /// Longest wait between retries, e.g. `1h`.
    #[arg(long, hide = true)]
    pub webhook_retry_cap: Option<String>,
    /// How long after its first attempt a delivery is still retried, e.g. `72h`.
    #[arg(long, hide = true)]
    pub webhook_give_up_after: Option<String>,
    /// Longest wait for the endpoint's answer, e.g. `10s`.
    #[arg(long, hide = true)]
    pub webhook_timeout: Option<String>,
}

/// `serve`'s config file, read by the other commands too: each setting they share with
/// `serve` (database, key files, public address) comes from its flag, else its variable,
/// else this file, as for `serve`, so one set of settings serves every command.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// `serve`'s TOML file: the settings this command shares with `serve` that no flag or
    /// variable gives are taken from it.
    #[arg(long = "config", env = "ASSENT_CONFIG")]
    pub path: Option<PathBuf>,
    /// The file, once read.
    #[arg(skip)]
    file: std::cell::OnceCell<ServeArgs>,
}

impl ConfigArg {
    /// The file's settings (relative paths made the file's), or none without a file. Read
    /// only when a setting is asked of it: a command whose flags give all it needs works
    /// whatever the file, as it did before commands other than `serve` read it.
    fn file(&self) -> Result<&ServeArgs, ConfigError> {
        if let Some(file) = self.file.get() {
            return Ok(file);
        }
        let file = self
            .path
            .as_deref()
            .map_or_else(|| Ok(ServeArgs::default()), read_file)?;
        Ok(self.file.get_or_init(|| file))
    }

    /// A setting: `flag` (the flag's or its variable's value), else the file's.
    pub fn or_file<T: Clone>(
        &self,
        flag: Option<T>,
        pick: impl FnOnce(&ServeArgs) -> &Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        match flag {
            Some(value) => Ok(Some(value)),
            None => Ok(pick(self.file()?).clone()),
        }
    }

    /// A setting the command can't do without, as [`ConfigArg::or_file`] finds it; an
    /// error naming its flag when neither gives it.
    pub fn needed<T: Clone>(
        &self,
        flag: Option<T>,
        pick: impl FnOnce(&ServeArgs) -> &Option<T>,
        flag_name: &'static str,
    ) -> Result<T, ConfigError> {
        self.or_file(flag, pick)?
            .ok_or(ConfigError::Missing(flag_name))
    }
}

/// The database `verify`, `export` and `preferences` read, and the config file that may
/// name it and the command's other settings.
#[derive(Debug, Args)]
pub struct DatabaseArg {
    /// `postgres://…` URL, `sqlite:<file>` or an SQLite file path [default: the config
    /// file's, else assent.db].
    #[arg(long = "database", env = "ASSENT_DATABASE")]
    pub url: Option<String>,
    /// The config file.
    #[command(flatten)]
    pub config: ConfigArg,
}

impl DatabaseArg {
    /// The database: the flag's, else the config file's, else `assent.db`.
    pub fn database(&self) -> Result<Database, ConfigError> {
        let url = self
            .config
            .or_file(self.url.clone(), |file| &file.database)?;
        Ok(url.as_deref().unwrap_or(DEFAULT_DATABASE).parse()?)
    }
}

/// `verify` options.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArg,
    /// Check this receipt (JWS compact) instead of the chain.
    #[arg(long, conflicts_with = "receipt_file")]
    pub receipt: Option<String>,
    /// Check this receipt file (as the widget downloads it) instead of the chain: its
    /// signature, and that the signed claims and its summary match its record.
    #[arg(long, value_name = "FILE")]
    pub receipt_file: Option<PathBuf>,
    /// The receipt key file (a ring, one key per line) whose public halves check receipts,
    /// each by its `kid`; with a chain walk, every stored receipt is checked too [default:
    /// the config file's].
    #[arg(long, env = "ASSENT_RECEIPT_KEY")]
    pub receipt_key: Option<PathBuf>,
    /// A JWK set file (as `/.well-known/jwks.json` serves it), instead of `--receipt-key`
    /// (which it overrides, so that one set for every command in the environment does not
    /// stop a check against a published set).
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
    /// One public key (a JWK's `x`, base64url), instead of `--receipt-key` (which it
    /// overrides, as `--jwks` does). base64url has `-`, so one key in 64 starts with it:
    /// that is a value, not an option.
    #[arg(long, allow_hyphen_values = true, conflicts_with = "jwks")]
    pub public_key: Option<String>,
    /// With `--receipt` or `--receipt-file`: also that the database's chain verifies (every
    /// stored receipt too) and still holds the receipt's row as it was signed, its link and
    /// its digest. A receipt a visitor kept shows a chain whose end was cut, or rewritten
    /// from that row on, which the chain alone can't.
    #[arg(long)]
    pub in_chain: bool,
}

/// `export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArg,
    /// Only this e-mail address's records (needs `--subject-key`).
    #[arg(long)]
    pub subject: Option<String>,
    /// The subject key file the server uses [default: the config file's].
    #[arg(long, env = "ASSENT_SUBJECT_KEY")]
    pub subject_key: Option<PathBuf>,
    /// Instead of the records: the suppression list of this optional purpose (e.g.
    /// `new_products`), the subjects whose current state for it is denied.
    #[arg(long, value_name = "PURPOSE")]
    pub suppression: Option<String>,
    /// Output format: `ndjson`, or `csv` (with `--suppression`).
    #[arg(long, value_enum, default_value_t = ExportFormat::Ndjson)]
    pub format: ExportFormat,
}

/// How `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

/// `preferences` options.
#[derive(Debug, Args)]
pub struct PreferencesArgs {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArg,
    /// The person's e-mail address.
    #[arg(long)]
    pub email: String,
    /// The subject key file the server uses [default: the config file's].
    #[arg(long, env = "ASSENT_SUBJECT_KEY")]
    pub subject_key: Option<PathBuf>,
}

/// `requeue` options.
#[derive(Debug, Args)]
pub struct RequeueArgs {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArg,
}

/// `keygen` options.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("keys").required(true).multiple(true)
    .args(["receipt_key", "subject_key", "link_key"]))]
pub struct KeygenArgs {
    /// Where to write the receipt signing key (must not exist, unless `--rotate`).
    #[arg(long)]
    pub receipt_key: Option<PathBuf>,
    /// Add a new key to the existing receipt or link key file (each given) instead: it
    /// signs receipts from the next start of `serve`, links from the next `link` (and, in
    /// `serve`, from its restart or the first token of the new key it is shown), and what
    /// the older keys signed still verifies.
    #[arg(long, conflicts_with = "subject_key")]
    pub rotate: bool,
    /// Where to write a subject HMAC key (must not exist).
    #[arg(long)]
    pub subject_key: Option<PathBuf>,
    /// Where to write a link token HMAC key (must not exist; with `--rotate`, must).
    #[arg(long)]
    pub link_key: Option<PathBuf>,
}

/// `link` options.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The subscriber's e-mail address (kept in the link only as its keyed hash and a
    /// masked hint).
    #[arg(long)]
    pub email: String,
    /// A covered site the link is valid on (host name); repeat for several.
    #[arg(long = "site", required = true)]
    pub sites: Vec<String>,
    /// The covered page the manage link opens (https; http only for localhost).
    #[arg(long)]
    pub page: String,
    /// The collector's public address, under which the unsubscribe link lives [default:
    /// the config file's].
    #[arg(long, env = "ASSENT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long the link stays valid: a duration such as 30d, 12h, 90m or 600s (at most 366d).
    #[arg(long, default_value = "30d")]
    pub ttl: crate::token::Ttl,
    /// Unsubscribe from this one optional purpose only (e.g. `updates`).
    #[arg(long)]
    pub purpose: Option<String>,
    /// The subject key file the server uses [default: the config file's]. Never created
    /// here: a link under a key of its own would name no one the server knows.
    #[arg(long, env = "ASSENT_SUBJECT_KEY")]
    pub subject_key: Option<PathBuf>,
    /// The link key file the server uses [default: the config file's]; never created here.
    #[arg(long, env = "ASSENT_LINK_KEY")]
    pub link_key: Option<PathBuf>,
    /// Accepted so one set of settings serves every command; minting reads no records.
    #[arg(long, env = "ASSENT_DATABASE")]
    pub database: Option<String>,
    /// The origins `serve` takes records from, as `serve --allowed-origins`: the page must
    /// be of one [default: the config file's, else the six covered sites].
    #[arg(long, env = "ASSENT_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Option<Vec<String>>,
    /// The config file.
    #[command(flatten)]
    pub config: ConfigArg,
}

/// A setting that can't be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file can't be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A setting the command needs is given nowhere.
    #[error(
        "{0} is needed: give the flag, its ASSENT_ variable, or a --config file that names it"
    )]
    Missing(&'static str),
    /// The config file is not valid.
    #[error("config file {path} is invalid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An allowed origin is not of the form `scheme://host[:port]`.
    #[error("allowed origin {0:?} must be written as browsers send it: scheme://host[:port] in lower case, without the scheme's default port, a path or a Unicode host name, e.g. https://pci.qualys.com (and never *)")]
    Origin(String),
    /// The allow-list is empty.
    #[error("allowed origins must not be empty")]
    NoOrigins,
    /// The database setting is unusable.
    #[error("database setting: {0}")]
    Database(#[from] crate::store::StoreError),
    /// Not a header name.
    #[error("client IP header {0:?} is not a valid header name")]
    Header(String),
    /// The static directory is missing.
    #[error("static dir {0} is not a directory")]
    StaticDir(PathBuf),
    /// The public URL is not usable.
    #[error(transparent)]
    PublicUrl(#[from] crate::link::PublicUrlError),
    /// The webhook URL is unusable.
    #[error("webhook URL: {0}")]
    WebhookUrl(#[from] crate::webhook::UrlError),
    /// Two key settings name one file.
    #[error("{first} and {second} name one file, {path}: each key needs a file of its own (a key of one kind read as another's is no secret of either's)")]
    SharedKeyFile {
        /// The first setting.
        first: &'static str,
        /// The second.
        second: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// The webhook URL and secret file were not given together.
    #[error("--webhook-url and --webhook-secret-file go together: give both or neither")]
    WebhookIncomplete,
    /// A duration that does not parse, or is out of range.
    #[error("{setting} must be a duration from 1ms to 365days, such as 30s, 5m or 1h")]
    Duration {
        /// The setting.
        setting: &'static str,
    },
}

/// `serve` settings after merging and checking.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where records go.
    pub database: Database,
    /// Listen address.
    pub listen: SocketAddr,
    /// CORS and POST allow-list.
    pub allowed_origins: Vec<HeaderValue>,
    /// Static files for the demo.
    pub static_dir: Option<PathBuf>,
    /// Receipt key file.
    pub receipt_key: Option<PathBuf>,
    /// Subject key file.
    pub subject_key: Option<PathBuf>,
    /// POSTs per IP per minute (0: off).
    pub rate_per_ip: u32,
    /// POSTs per site per minute (0: off).
    pub rate_per_site: u32,
    /// Header with the client IP, behind a proxy.
    pub client_ip_header: Option<HeaderName>,
    /// Admin keys file.
    pub admin_keys: Option<PathBuf>,
    /// Link key file.
    pub link_key: Option<PathBuf>,
    /// Public base address (none: `http://` and the bound address).
    pub public_url: Option<crate::link::PublicUrl>,
    /// Notice documents whose controllers receipt files name.
    pub notices: Vec<PathBuf>,
    /// Where to deliver changes, if anywhere.
    pub webhook: Option<crate::webhook::WebhookSettings>,
}

impl ServeArgs {
    /// Merges flags and env over the config file over the defaults, and checks the result.
    pub fn resolve(self) -> Result<Settings, ConfigError> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => ServeArgs::default(),
        };
        let origins = self
            .allowed_origins
            .or(file.allowed_origins)
            .unwrap_or_else(|| DEFAULT_ORIGINS.iter().map(|o| (*o).to_owned()).collect());
        let static_dir = self.static_dir.or(file.static_dir);
        if let Some(dir) = &static_dir {
            if !dir.is_dir() {
                return Err(ConfigError::StaticDir(dir.clone()));
            }
        }
        let client_ip_header = match self.client_ip_header.or(file.client_ip_header) {
            Some(name) => {
                Some(HeaderName::try_from(name.as_str()).map_err(|_| ConfigError::Header(name))?)
            }
            None => None,
        };
        let webhook = webhook_settings(
            self.webhook_url.or(file.webhook_url),
            self.webhook_secret_file.or(file.webhook_secret_file),
            [
                self.webhook_retry_base.or(file.webhook_retry_base),
                self.webhook_retry_cap.or(file.webhook_retry_cap),
                self.webhook_give_up_after.or(file.webhook_give_up_after),
                self.webhook_timeout.or(file.webhook_timeout),
            ],
        )?;
        let database = self
            .database
            .or(file.database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let receipt_key = self.receipt_key.or(file.receipt_key);
        let subject_key = self.subject_key.or(file.subject_key);
        let admin_keys = self.admin_keys.or(file.admin_keys);
        let link_key = self.link_key.or(file.link_key);
        distinct_key_files(&[
            ("--receipt-key", receipt_key.as_deref()),
            ("--subject-key", subject_key.as_deref()),
            ("--link-key", link_key.as_deref()),
            ("--admin-keys", admin_keys.as_deref()),
            (
                "--webhook-secret-file",
                webhook.as_ref().map(|w| w.secret_file.as_path()),
            ),
        ])?;
        Ok(Settings {
            database: database.parse()?,
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8787))),
            allowed_origins: parse_origins(&origins)?,
            static_dir,
            receipt_key,
            subject_key,
            rate_per_ip: self
                .rate_per_ip
                .or(file.rate_per_ip)
                .unwrap_or(DEFAULT_RATE_PER_IP),
            rate_per_site: self
                .rate_per_site
                .or(file.rate_per_site)
                .unwrap_or(DEFAULT_RATE_PER_SITE),
            client_ip_header,
            admin_keys,
            link_key,
            public_url: self
                .public_url
                .or(file.public_url)
                .map(|url| url.parse())
                .transpose()?,
            notices: self.notices.or(file.notices).unwrap_or_default(),
            webhook,
        })
    }
}

/// The webhook settings, if webhooks are on; `timing` holds retry base, retry cap, give-up
/// age and timeout, each if set.
fn webhook_settings(
    url: Option<String>,
    secret_file: Option<PathBuf>,
    timing: [Option<String>; 4],
) -> Result<Option<crate::webhook::WebhookSettings>, ConfigError> {
    let defaults = crate::webhook::Backoff::default();
    let [base, cap, give_up_after, timeout] = timing;
    // Bounded so that no retry runs hot (0) and the worker's arithmetic on them (leases,
    // doublings, jitter) can't overflow.
    let range = Duration::from_millis(1)..=Duration::from_secs(365 * 86_400);
    let duration = |value: Option<String>, setting: &'static str, default| match value {
        Some(text) => humantime::parse_duration(&text)
            .ok()
            .filter(|parsed| range.contains(parsed))
            .ok_or(ConfigError::Duration { setting }),
        None => Ok(default),
    };
    // Checked with webhooks off too: a bad setting stops the start, whatever else is set.
    let backoff = crate::webhook::Backoff {
        base: duration(base, "--webhook-retry-base", defaults.base)?,
        cap: duration(cap, "--webhook-retry-cap", defaults.cap)?,
        give_up_after: duration(
            give_up_after,
            "--webhook-give-up-after",
            defaults.give_up_after,
        )?,
    };
    let timeout = duration(
        timeout,
        "--webhook-timeout",
        crate::webhook::DEFAULT_TIMEOUT,
    )?;
    let (url, secret_file) = match (url, secret_file) {
        (Some(url), Some(secret_file)) => (url, secret_file),
        (None, None) => return Ok(None),
        _ => return Err(ConfigError::WebhookIncomplete),
    };
    Ok(Some(crate::webhook::WebhookSettings {
        url: crate::webhook::parse_url(&url)?,
        secret_file,
        backoff,
        timeout,
    }))
}

/// Refuses two of the key settings naming one file (`keygen` refuses it too): the same 32
/// bytes would then be the receipt signing seed, the subject key and the link key at once,
/// an admin bearer key, or the webhook secret, and a rotation of one ring would break the
/// others.
pub(crate) fn distinct_key_files(
    named: &[(&'static str, Option<&Path>)],
) -> Result<(), ConfigError> {
    let given: Vec<(&'static str, &Path)> = named
        .iter()
        .filter_map(|(setting, path)| path.map(|path| (*setting, path)))
        .collect();
    for (i, (second, path)) in given.iter().enumerate() {
        if let Some((first, _)) = given[..i]
            .iter()
            .find(|(_, other)| crate::keys::same_file(other, path))
        {
            return Err(ConfigError::SharedKeyFile {
                first,
                second,
                path: path.to_path_buf(),
            });
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<ServeArgs, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.into(),
        source,
    })?;
    let mut file: ServeArgs = toml::from_str(&text).map_err(|err| ConfigError::Parse {
        path: path.into(),
        message: err.to_string(),
    })?;
    // Its relative paths are the file's, not those of wherever `serve` was started (a
    // service's working directory is often not the file's): else it would start on a new,
    // empty database with new keys.
    let dir = path.parent().unwrap_or(Path::new(""));
    let beside_file = |path: &mut PathBuf| {
        if path.is_relative() {
            *path = dir.join(&*path);
        }
    };
    for path in [
        &mut file.static_dir,
        &mut file.receipt_key,
        &mut file.subject_key,
        &mut file.admin_keys,
        &mut file.link_key,
        &mut file.webhook_secret_file,
    ] {
        path.iter_mut().for_each(beside_file);
    }
    file.notices.iter_mut().flatten().for_each(beside_file);
    if let Some(database) = &mut file.database {
        if !database.contains("://") || database.starts_with("sqlite://") {
            let (scheme, rest) = database
                .strip_prefix("sqlite://")
                .map(|rest| ("sqlite://", rest))
                .or_else(|| {
                    database
                        .strip_prefix("sqlite:")
                        .map(|rest| ("sqlite:", rest))
                })
                .unwrap_or(("", database.as_str()));
            let mut path = PathBuf::from(rest);
            beside_file(&mut path);
            *database = format!("{scheme}{}", path.display());
        }
    }
    Ok(file)
}

/// Checks each origin is exactly `scheme://host[:port]` as browsers send it: the CORS check
/// compares the `Origin` header byte for byte, so an origin written otherwise (a default
/// port, upper case, a Unicode host name) would refuse every page of its site.
pub fn parse_origins(origins: &[String]) -> Result<Vec<HeaderValue>, ConfigError> {
    let parsed: Vec<HeaderValue> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let bad = || ConfigError::Origin(origin.to_owned());
            let url = url::Url::parse(origin).map_err(|_| bad())?;
            if !matches!(url.scheme(), "http" | "https")
                || url.origin().ascii_serialization() != origin
            {
                return Err(bad());
            }
            HeaderValue::from_str(origin).map_err(|_| bad())
        })
        .collect::<Result<_, _>>()?;
    if parsed.is_empty() {
        return Err(ConfigError::NoOrigins);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `serve --config cfg/collector.toml` from anywhere: the file's relative paths are
    /// its own directory's, its absolute ones and a PostgreSQL URL as written.
    #[test]
    fn a_config_files_relative_paths_are_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cfg");
        std::fs::create_dir(&cfg).unwrap();
        let file = cfg.join("collector.toml");
        std::fs::write(
            &file,
            "database = \"sqlite:data/records.db\"\nreceipt_key = \"keys/receipt.key\"\n\
             subject_key = \"/etc/assent/subject.key\"\nnotice = [\"acme.json\"]\n",
        )
        .unwrap();
        let read = read_file(&file).unwrap();
        assert_eq!(
            read.database,
            Some(format!("sqlite:{}", cfg.join("data/records.db").display()))
        );
        assert_eq!(read.receipt_key, Some(cfg.join("keys/receipt.key")));
        assert_eq!(
            read.subject_key,
            Some(PathBuf::from("/etc/assent/subject.key"))
        );
        assert_eq!(read.notices, Some(vec![cfg.join("acme.json")]));

        std::fs::write(&file, "database = \"postgres://db.example/assent\"\n").unwrap();
        let read = read_file(&file).unwrap();
        assert_eq!(
            read.database.as_deref(),
            Some("postgres://db.example/assent")
        );
    }

    #[test]
    fn origins_must_be_exact() {
        assert!(parse_origins(&[
            "https://pci.qualys.com".into(),
            "http://127.0.0.1:8787".into(),
            "http://[::1]:8787".into(),
            "https://xn--bcher-kva.example".into(),
        ])
        .is_ok());
        // Each would match no Origin header a browser sends.
        for bad in [
            "*",
            "https://pci.qualys.com/",
            "pci.qualys.com",
            "ftp://x.com",
            "https://PCI.qualys.com",
            "https://pci.qualys.com:443",
            "http://pci.qualys.com:80",
            "https://pci.qualys.com:",
            "https://pci.qualys.com:abc",
            "https://[::1",
            "https://bücher.example",
        ] {
            assert!(parse_origins(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(matches!(parse_origins(&[]), Err(ConfigError::NoOrigins)));
    }

    #[test]
    fn a_public_key_may_start_with_a_hyphen() {
        let cli = Cli::try_parse_from([
            "assent-collector",
            "verify",
            "--receipt",
            "eyJ.e30.sig",
            "--public-key",
            "-4abc_def",
        ])
        .expect("parses");
        let Command::Verify(args) = cli.command else {
            panic!("not verify")
        };
        assert_eq!(args.public_key.as_deref(), Some("-4abc_def"));
    }

    #[test]
    fn the_example_config_parses_with_the_six_sites() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("collector.example.toml");
        let file = read_file(&path).unwrap();
        assert_eq!(
            file.allowed_origins.unwrap(),
            DEFAULT_ORIGINS.map(String::from).to_vec()
        );
        let settings = ServeArgs {
            config: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(settings.allowed_origins.len(), 6);
    }

    #[test]
    fn each_key_setting_needs_a_file_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k");
        std::fs::write(&key, "x").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        let with = |receipt: &Path, other: ServeArgs| {
            ServeArgs {
                receipt_key: Some(receipt.to_path_buf()),
                ..other
            }
            .resolve()
        };
        let shared = [
            ServeArgs {
                subject_key: Some(key.clone()),
                ..Default::default()
            },
            // The same file through a symbolic link, or by another spelling of its path.
            ServeArgs {
                link_key: Some(link.clone()),
                ..Default::default()
            },
            ServeArgs {
                admin_keys: Some(dir.path().join(".").join("k")),
                ..Default::default()
            },
            ServeArgs {
                webhook_url: Some("https://m.example.com/".into()),
                webhook_secret_file: Some(key.clone()),
                ..Default::default()
            },
        ];
        for other in shared {
            let err = with(&key, other).unwrap_err().to_string();
            assert!(err.contains("each key needs a file of its own"), "{err}");
            assert!(err.starts_with("--receipt-key and --"), "{err}");
        }
        // Files not made yet are told apart by their paths.
        let apart = ServeArgs {
            subject_key: Some(dir.path().join("subject.key")),
            link_key: Some(dir.path().join("link.key")),
            ..Default::default()
        };
        assert!(with(&dir.path().join("receipt.key"), apart).is_ok());
    }

    #[test]
    fn webhook_settings_go_together_and_say_what_is_wrong() {
        let with = |url: Option<&str>, secret: Option<&str>, base: Option<&str>| {
            ServeArgs {
                webhook_url: url.map(String::from),
                webhook_secret_file: secret.map(PathBuf::from),
                webhook_retry_base: base.map(String::from),
                ..Default::default()
            }
            .resolve()
        };
        assert!(with(None, None, None).unwrap().webhook.is_none());
        let on = with(
            Some("https://mailer.example.com/hook"),
            Some("w.secret"),
            Some("250ms"),
        )
        .unwrap()
        .webhook
        .unwrap();
        assert_eq!(on.backoff.base, std::time::Duration::from_millis(250));
        assert_eq!(
            on.backoff.give_up_after,
            std::time::Duration::from_secs(3 * 86_400)
        );
        assert_eq!(on.timeout, crate::webhook::DEFAULT_TIMEOUT);
        for (url, secret, base, expected) in [
            (Some("https://m.example.com/"), None, None, "go together"),
            (None, Some("w.secret"), None, "go together"),
            (
                Some("http://m.example.com/"),
                Some("w.secret"),
                None,
                "must be https",
            ),
            (
                Some("https://m.example.com/"),
                Some("w.secret"),
                Some("soon"),
                "--webhook-retry-base",
            ),
            // With webhooks off too: a bad setting stops the start.
            (None, None, Some("soon"), "--webhook-retry-base"),
            (
                Some("https://m.example.com/"),
                Some("w.secret"),
                Some("0s"),
                "from 1ms to 365days",
            ),
            (
                Some("https://m.example.com/"),
                Some("w.secret"),
                Some("500000000years"),
                "from 1ms to 365days",
            ),
        ] {
            let err = with(url, secret, base).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn a_webhook_timeout_too_long_to_add_a_lease_to_is_refused() {
        let err = ServeArgs {
            webhook_url: Some("https://m.example.com/".into()),
            webhook_secret_file: Some("w.secret".into()),
            webhook_timeout: Some("500000000years".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("--webhook-timeout"), "{err}");
    }

    #[test]
    fn a_bad_config_says_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1\"\nallowed_origin = []\n").unwrap();
        let err = ServeArgs {
            config: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.to_string().contains("allowed_origin"), "{err}");
    }
}
