//! The configured encryption keys: the recipients new archives and cleanup parts are sealed
//! for, and the identities that open them (secrets, read when a job needs them).

use crate::archive::crypt;
use crate::error::CliError;

/// The recipients new archives and cleanup parts are encrypted to (`backup.encryption`),
/// `None` when encryption is off. A recipients file that cannot be read or holds a bad key is
/// exit 2 naming it.
pub fn recipients(cfg: &crate::config::Config) -> anyhow::Result<Option<crypt::Recipients>> {
    let e = &cfg.backup.encryption;
    if !e.enabled() {
        return Ok(None);
    }
    let mut lines: Vec<String> = e.recipients.clone();
    for f in &e.recipients_files {
        let text = std::fs::read_to_string(f).map_err(|err| {
            CliError::usage(format!(
                "cannot read backup.encryption.recipients_files entry {}: {err}",
                f.display()
            ))
        })?;
        let r = crypt::Recipients::parse(text.lines()).map_err(|msg| {
            CliError::usage(format!("recipients file {}: {msg}", f.display()))
                .with_hint("one age1… public key per line; `age-keygen -y KEYFILE` prints one")
        })?;
        if r.is_empty() {
            return Err(CliError::usage(format!(
                "recipients file {} holds no age1… key",
                f.display()
            ))
            .into());
        }
        lines.extend(r.names().iter().cloned());
    }
    let r = crypt::Recipients::parse(lines.iter().map(String::as_str))
        .map_err(|msg| CliError::usage(format!("backup.encryption.recipients: {msg}")))?;
    Ok(Some(r))
}

/// The configured identities, read now (mode warnings as for every secret); `None` when none
/// is configured. A missing, unreadable or malformed file is exit 2 naming it.
pub fn load_identities(
    files: &[crate::config::SecretFile],
) -> anyhow::Result<Option<crypt::Identities>> {
    use secrecy::ExposeSecret as _;
    let mut all: Option<crypt::Identities> = None;
    for f in files {
        let text = f.read("backup.encryption.identity_files").map_err(|e| {
            CliError::usage(e.to_string()).with_hint(
                "backup.encryption.identity_files (or DARAA_OPS_AGE_IDENTITY_FILE) names an age identity file (`age-keygen -o FILE`), mode 0600",
            )
        })?;
        let ids = crypt::Identities::parse(text.expose_secret()).map_err(|msg| {
            CliError::usage(format!("age identity file {} {msg}", f.path().display()))
                .with_hint("an identity file holds AGE-SECRET-KEY-1… lines (`age-keygen -o FILE`)")
        })?;
        match &mut all {
            Some(a) => a.extend(ids),
            None => all = Some(ids),
        }
    }
    Ok(all)
}
