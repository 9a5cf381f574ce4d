//! Redaction of credentials embedded in connection strings.
//!
//! `mongodb://user:pw@host/db` becomes `mongodb://user:***@host/db`; the user name stays, since
//! operators need it to tell which account a URI uses. Used by `config show`, logs and errors.

/// Replaces the password of any `scheme://user:password@host` form with `***`.
pub fn redact_uri(uri: &str) -> String {
    let Some(scheme_end) = uri.find("://") else { return uri.to_owned() };
    let rest = &uri[scheme_end + 3..];
    // The authority ends at the first '/', '?' or '#'; the userinfo ends at its last '@'
    // (passwords may contain '@' when the URI was written without percent-encoding).
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else { return uri.to_owned() };
    let userinfo = &authority[..at];
    let user = match userinfo.find(':') {
        Some(colon) => &userinfo[..colon],
        None => return uri.to_owned(),
    };
    format!(
        "{}://{}:***@{}{}",
        &uri[..scheme_end],
        user,
        &authority[at + 1..],
        &rest[authority_end..]
    )
}

/// Removes every occurrence of the given secret values from a text (error messages of
/// third-party libraries may echo a URI back).
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(s, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_keeps_everything_else() {
        assert_eq!(
            redact_uri("mongodb://app:pa%40ss@h1:27017,h2/daraa?authSource=admin"),
            "mongodb://app:***@h1:27017,h2/daraa?authSource=admin"
        );
        assert_eq!(redact_uri("mongodb://a:b@c@host/"), "mongodb://a:***@host/");
        assert_eq!(redact_uri("redis://:secret@127.0.0.1:6379/0"), "redis://:***@127.0.0.1:6379/0");
        assert_eq!(redact_uri("mongodb://host/x?y=z@w"), "mongodb://host/x?y=z@w");
        assert_eq!(redact_uri("mongodb://user@host/"), "mongodb://user@host/");
        assert_eq!(redact_uri("not a uri"), "not a uri");
        assert_eq!(
            redact_uri("mongodb+srv://u:p@cluster.example.net"),
            "mongodb+srv://u:***@cluster.example.net"
        );
    }

    #[test]
    fn scrub_removes_values() {
        assert_eq!(scrub("auth failed for hunter22", &["hunter22"]), "auth failed for ***");
    }
}
