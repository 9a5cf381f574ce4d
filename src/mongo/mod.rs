//! MongoDB connections built from the config, and driver errors in the operator's words.
//!
//! Knows nothing about the CLI: errors are [`MongoError`]s (or the driver's own), which
//! `classify::classify` maps. Never logs or returns a password.

pub mod dump;
pub mod load;
pub mod oplog;
pub mod privileges;
pub mod replset;

use mongodb::bson::{Document, doc};
use mongodb::options::{
    AuthMechanism, ClientOptions, Credential, ReadPreference as DriverReadPreference,
    SelectionCriteria,
};
use mongodb::{Client, error::ErrorKind as DriverErrorKind};
use secrecy::ExposeSecret as _;

use crate::config::redact::{redact_uri, scrub};
use crate::config::{ConfigError, MongoConfig, ReadPreference};

/// Why a connection could not be made, with the server and user named.
#[derive(Debug, thiserror::Error)]
pub enum MongoError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("MongoDB authentication failed{who} at {uri}: {detail}")]
    AuthFailed { who: String, uri: String, detail: String },
    #[error("MongoDB refused{who} at {uri}: {detail}")]
    Refused { who: String, uri: String, detail: String },
    #[error("cannot reach MongoDB at {uri}: {detail}")]
    Unreachable { uri: String, detail: String },
    #[error("MongoDB error at {uri}: {detail}")]
    Other { uri: String, detail: String },
}

/// Which account a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `mongodb.username` (or the URI's credentials).
    Operator,
    /// `mongodb.jobs.<job>` when configured, else the operator account.
    Job(privileges::Job),
    /// `mongodb.admin`: user provisioning.
    Admin,
}

impl Role {
    /// The job's own account, if the config names one.
    fn job_account(
        self,
        cfg: &MongoConfig,
    ) -> Option<(&crate::config::AdminCredentials, &'static str)> {
        let Role::Job(job) = self else { return None };
        cfg.jobs.get(job.name())
    }
}

/// Whether the command only reads: then `mongodb.read_preference` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

/// A connected client, checked with a `ping` that forces authentication.
#[derive(Debug, Clone)]
pub struct Mongo {
    pub client: Client,
    /// The URI with any password redacted, for messages.
    pub display_uri: String,
    pub user: Option<String>,
}

pub async fn connect(cfg: &MongoConfig, role: Role, access: Access) -> Result<Mongo, MongoError> {
    let display_uri = redact_uri(&cfg.uri);
    // With the account in the config, auth parameters of the URI belong to that account: the
    // driver refuses `authMechanism` in a URI that has no user name.
    let config_has_account = match role {
        Role::Operator => cfg.username.is_some(),
        Role::Job(_) => role.job_account(cfg).is_some() || cfg.username.is_some(),
        Role::Admin => true,
    };
    let (uri, uri_mechanism, uri_source) = if config_has_account {
        split_auth_params(&cfg.uri)
    } else {
        (cfg.uri.clone(), None, None)
    };
    let mut options = ClientOptions::parse(&uri).await.map_err(|e| ConfigError::Invalid {
        path: None,
        key: "mongodb.uri".into(),
        message: format!(
            "{display_uri}: {} (see https://www.mongodb.com/docs/manual/reference/connection-string/)",
            scrub(&e.to_string(), &[&cfg.uri])
        ),
    })?;
    let mut secret_values: Vec<String> = Vec::new();
    let account = account_of(cfg, role)?;
    if let Some((username, file, source, key)) = account {
        let password = file.read(key)?;
        secret_values.push(password.expose_secret().to_owned());
        let source = source.or(uri_source).unwrap_or_else(|| "admin".into());
        let mechanism = match uri_mechanism {
            Some(m) => Some(m.parse::<AuthMechanism>().map_err(|e| ConfigError::Invalid {
                path: None,
                key: "mongodb.uri".into(),
                message: format!("authMechanism in {display_uri}: {e}"),
            })?),
            None => None,
        };
        options.credential = Some(
            Credential::builder()
                .username(username)
                .password(password.expose_secret().to_owned())
                .source(source)
                .mechanism(mechanism)
                .build(),
        );
    }
    let user = options.credential.as_ref().and_then(|c| c.username.clone());
    options.app_name = Some(cfg.app_name.clone());
    // Options written in the URI win over the config's defaults.
    options.server_selection_timeout.get_or_insert(cfg.server_selection_timeout);
    options.connect_timeout.get_or_insert(cfg.connect_timeout);
    if access == Access::ReadOnly
        && let Some(rp) = cfg.read_preference
    {
        options.selection_criteria =
            Some(SelectionCriteria::ReadPreference(driver_read_preference(rp)));
    }
    if let Some(path) = std::env::var_os(crate::config::env_vars::COMMAND_LOG) {
        let account = match role {
            Role::Operator => "operator",
            Role::Job(j) => j.name(),
            Role::Admin => "admin",
        };
        options.command_event_handler = Some(command_log(path.into(), account));
    }
    let client = Client::with_options(options)
        .map_err(|e| classify(&e, &display_uri, user.as_deref(), &secret_values))?;
    if let Ok(mut open) = OPEN.lock() {
        open.push(client.clone());
    }
    client
        .database("admin")
        .run_command(doc! {"ping": 1})
        .await
        .map_err(|e| classify(&e, &display_uri, user.as_deref(), &secret_values))?;
    Ok(Mongo { client, display_uri, user })
}

/// Appends every command sent to a file, one line each: its name (`aggregate:$stage` for
/// stages with their own privilege), the database it ran on, the collection it names (see
/// [`privileges::resource_of`]), the account the connection was opened for (the job's,
/// `operator` or `admin`) and the `batchSize` it asks for (empty when none), tab separated;
/// for privilege audits, the crash tests and the batch sizes of a dump.
fn command_log(
    path: std::path::PathBuf,
    account: &'static str,
) -> mongodb::event::EventHandler<mongodb::event::command::CommandEvent> {
    mongodb::event::EventHandler::callback(move |ev| {
        use std::io::Write as _;
        if let mongodb::event::command::CommandEvent::Started(s) = ev {
            let name = privileges::recorded_name(&s.command_name, &s.db, &s.command);
            let (db, collection) = privileges::resource_of(&s.command_name, &s.db, &s.command);
            let batch = match s.command.get("batchSize") {
                Some(bson::Bson::Int32(n)) => n.to_string(),
                Some(bson::Bson::Int64(n)) => n.to_string(),
                _ => String::new(),
            };
            // One write per line: concurrent insertion workers append to the same file, and
            // `writeln!` may write the name and the newline separately (lines got mixed).
            if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&path) {
                let _ = f.write_all(
                    format!("{name}\t{db}\t{collection}\t{account}\t{batch}\n").as_bytes(),
                );
            }
        }
    })
}

/// Every client this process opened, so that their pools end before the runtime does.
static OPEN: std::sync::Mutex<Vec<Client>> = std::sync::Mutex::new(Vec::new());

/// Shuts down every client's connection pool (bounded wait). Called once at the end of the
/// process: dropping a pool while the runtime stops made the driver panic now and then.
pub async fn shutdown_all() {
    let clients: Vec<Client> = OPEN.lock().map(|mut v| v.drain(..).collect()).unwrap_or_default();
    let all =
        futures_util::future::join_all(clients.into_iter().map(|c| c.shutdown().into_future()));
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), all).await;
}

/// An account from the config: user, password file, auth source, and the key naming the file.
type Account = (String, crate::config::SecretFile, Option<String>, &'static str);

/// The account `role` uses: the job's own (`mongodb.jobs.<job>`), else the default one, or
/// the administrator's; `None` when the URI carries the credentials.
fn account_of(cfg: &MongoConfig, role: Role) -> Result<Option<Account>, ConfigError> {
    match (role, role.job_account(cfg)) {
        (Role::Job(_), Some((a, key))) => named(a, key).map(Some),
        (Role::Operator | Role::Job(_), _) => Ok(cfg
            .username
            .clone()
            .zip(cfg.password_file.clone())
            .map(|(u, f)| (u, f, cfg.auth_source.clone(), "mongodb.password_file"))),
        (Role::Admin, _) => {
            let admin = cfg.admin.as_ref().ok_or_else(|| ConfigError::Missing {
                key: "mongodb.admin".into(),
                hint: "add mongodb.admin: {username: ..., password_file: ...} to the config".into(),
            })?;
            named(admin, "mongodb.admin.password_file").map(Some)
        }
    }
}

/// An account section of the config (`mongodb.admin`, `mongodb.jobs.<job>`); its password
/// file is required.
fn named(a: &crate::config::AdminCredentials, key: &'static str) -> Result<Account, ConfigError> {
    let file = a.password_file.clone().ok_or_else(|| ConfigError::Missing {
        key: key.into(),
        hint: "name the file that holds this account's password".into(),
    })?;
    Ok((a.username.clone(), file, Some(a.auth_source.clone()), key))
}

/// Removes `authMechanism` and `authSource` from a URI's query, returning them.
fn split_auth_params(uri: &str) -> (String, Option<String>, Option<String>) {
    let Some((base, query)) = uri.split_once('?') else { return (uri.to_owned(), None, None) };
    let (mut mechanism, mut source, mut kept) = (None, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case("authMechanism") => {
                mechanism = Some(v.to_owned());
            }
            Some((k, v)) if k.eq_ignore_ascii_case("authSource") => {
                source = Some(v.to_owned());
            }
            _ => kept.push(pair),
        }
    }
    let uri = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    (uri, mechanism, source)
}

fn driver_read_preference(rp: ReadPreference) -> DriverReadPreference {
    match rp {
        ReadPreference::Primary => DriverReadPreference::Primary,
        ReadPreference::PrimaryPreferred => DriverReadPreference::primary_preferred(None),
        ReadPreference::Secondary => DriverReadPreference::Secondary { options: None },
        ReadPreference::SecondaryPreferred => DriverReadPreference::secondary_preferred(None),
        ReadPreference::Nearest => DriverReadPreference::nearest(None),
    }
}

/// Turns a driver error into the operator's error: which server, which user.
pub fn classify(
    e: &mongodb::error::Error,
    uri: &str,
    user: Option<&str>,
    secrets: &[String],
) -> MongoError {
    let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let detail = scrub(&e.to_string(), &secret_refs);
    let who = user.map(|u| format!(" as {u}")).unwrap_or_default();
    let uri = uri.to_owned();
    match e.kind.as_ref() {
        DriverErrorKind::Authentication { message, .. } => {
            MongoError::AuthFailed { who, uri, detail: scrub(message, &secret_refs) }
        }
        DriverErrorKind::Command(c) if c.code == 18 || c.code == 13 => {
            MongoError::Refused { who, uri, detail: c.message.clone() }
        }
        DriverErrorKind::ServerSelection { .. }
        | DriverErrorKind::Io(_)
        | DriverErrorKind::DnsResolve { .. } => {
            // Authentication failures during the handshake surface as server-selection errors.
            let detail = first_clause(&detail);
            if detail.contains("Authentication failed") || detail.contains("AuthenticationFailed") {
                MongoError::AuthFailed { who, uri, detail }
            } else {
                MongoError::Unreachable { uri, detail }
            }
        }
        _ => MongoError::Other { uri, detail },
    }
}

/// A lost or impossible connection (rather than a refused command): exit 3.
pub fn is_connection_error(e: &mongodb::error::Error) -> bool {
    matches!(
        e.kind.as_ref(),
        DriverErrorKind::Io(_)
            | DriverErrorKind::ServerSelection { .. }
            | DriverErrorKind::ConnectionPoolCleared { .. }
            | DriverErrorKind::DnsResolve { .. }
            | DriverErrorKind::Authentication { .. }
    )
}

/// An error chain in one line, causes joined by `: ` (a cause already at the end of the last
/// one said once), driver errors in words.
pub fn describe_chain(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in err.chain() {
        let text = match c.downcast_ref::<mongodb::error::Error>() {
            Some(e) => describe_error(e),
            None => c.to_string(),
        };
        if parts.last().is_some_and(|last| last.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ").replace('\n', " ")
}

/// A driver error in words, without the driver's `Kind: ..., labels: {}` dump.
pub fn describe_error(e: &mongodb::error::Error) -> String {
    match e.kind.as_ref() {
        DriverErrorKind::Io(io) => format!("connection to MongoDB lost ({io})"),
        DriverErrorKind::ConnectionPoolCleared { message, .. } => {
            format!("connection to MongoDB lost ({})", first_clause(message))
        }
        DriverErrorKind::ServerSelection { message, .. } => {
            format!("cannot reach MongoDB ({})", first_clause(message))
        }
        DriverErrorKind::Command(c) => {
            format!("the server refused ({} {}: {})", c.code, c.code_name, c.message)
        }
        DriverErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) => {
            format!("the server refused a write ({}: {})", w.code, w.message)
        }
        _ => e.to_string(),
    }
}

/// The part of a driver message worth showing: up to the topology description or the
/// debug dump of a nested error (`, labels: {}, source: ...`), without its `Kind: ` prefixes.
fn first_clause(text: &str) -> String {
    let t = text.trim();
    let cut = [", Topology:", ". Topology", ", labels:"]
        .iter()
        .filter_map(|m| t.find(m))
        .min()
        .unwrap_or(t.len());
    let mut end = cut.min(300);
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    t[..end].replace("Kind: ", "")
}

#[cfg(test)]
mod clause_tests {
    #[test]
    fn nested_driver_errors_lose_their_debug_dump() {
        let m = "Connection pool for 127.0.0.1:1 cleared because another operation failed with: Kind: I/O error: unexpected end of file, labels: {}, source: None, server response: None";
        assert_eq!(
            super::first_clause(m),
            "Connection pool for 127.0.0.1:1 cleared because another operation failed with: I/O error: unexpected end of file"
        );
    }
}

/// Server facts for messages and `prelude.json`.
pub async fn build_info(client: &Client) -> Result<Document, mongodb::error::Error> {
    client.database("admin").run_command(doc! {"buildInfo": 1}).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn auth_params_are_lifted_out_of_the_uri() {
        let (uri, m, s) = super::split_auth_params(
            "mongodb://h1,h2/?replicaSet=rs0&authSource=admin&authMechanism=SCRAM-SHA-256",
        );
        assert_eq!(uri, "mongodb://h1,h2/?replicaSet=rs0");
        assert_eq!(m.as_deref(), Some("SCRAM-SHA-256"));
        assert_eq!(s.as_deref(), Some("admin"));
        assert_eq!(super::split_auth_params("mongodb://h/").0, "mongodb://h/");
        assert_eq!(super::split_auth_params("mongodb://h/?authSource=x").0, "mongodb://h/");
    }
}
