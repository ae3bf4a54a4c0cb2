//! Parsing and redacting database URLs.

use crate::dialect::Dialect;
use crate::error::StoreError;

/// Where a database lives, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A private in-memory SQLite database (`sqlite::memory:`).
    SqliteMemory,
    /// A SQLite file, created when missing.
    SqliteFile(String),
    /// A PostgreSQL server.
    Postgres,
}

impl Location {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Location::SqliteMemory | Location::SqliteFile(_) => Dialect::Sqlite,
            Location::Postgres => Dialect::Postgres,
        }
    }
}

/// Parses `url` into a location, rejecting schemes the store does not serve.
pub(crate) fn parse_location(url: &str) -> Result<Location, StoreError> {
    let invalid = |reason: &str| StoreError::InvalidUrl {
        url: redact(url),
        reason: reason.to_owned(),
    };
    if url == "sqlite::memory:" || url == "sqlite://:memory:" {
        return Ok(Location::SqliteMemory);
    }
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))
    {
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(invalid("the SQLite file path is empty"));
        }
        // sqlx decodes `%HH` in the path (so a name can hold `?` or `#`),
        // and the store's own file checks must name the same file.
        let path = percent_encoding::percent_decode_str(path)
            .decode_utf8()
            .map_err(|_| {
                invalid("the SQLite file path is not UTF-8 after decoding its %HH escapes")
            })?;
        return Ok(Location::SqliteFile(path.into_owned()));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Location::Postgres);
    }
    Err(invalid("the scheme is not sqlite or postgres"))
}

/// Returns `url` with the password of its user-info part replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let user_info = &authority[..at];
    let Some(colon) = user_info.find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:***{}",
        &url[..authority_start],
        &user_info[..colon],
        &url[authority_start + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_password() {
        assert_eq!(
            redact("postgres://app:s3cr%40t@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
    }

    #[test]
    fn redact_keeps_url_without_password() {
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
    }

    #[test]
    fn redact_ignores_at_sign_in_path() {
        assert_eq!(redact("sqlite:///tmp/a@b.db"), "sqlite:///tmp/a@b.db");
    }

    #[test]
    fn parse_accepts_supported_forms() {
        assert_eq!(
            parse_location("sqlite::memory:").ok(),
            Some(Location::SqliteMemory)
        );
        assert_eq!(
            parse_location("sqlite:///tmp/x.db?mode=rwc").ok(),
            Some(Location::SqliteFile("/tmp/x.db".into()))
        );
        assert_eq!(
            parse_location("postgresql://h/db").ok(),
            Some(Location::Postgres)
        );
    }

    #[test]
    fn parse_decodes_percent_escapes_in_path() {
        assert_eq!(
            parse_location("sqlite:///tmp/a%3Fb%20c.db?mode=rwc").ok(),
            Some(Location::SqliteFile("/tmp/a?b c.db".into()))
        );
        assert!(parse_location("sqlite:///tmp/%FF.db").is_err());
    }

    #[test]
    fn parse_rejects_other_schemes() {
        let error = parse_location("mysql://u:pw@h/db")
            .err()
            .map(|e| e.to_string());
        let message = error.unwrap_or_default();
        assert!(message.contains("scheme"), "{message}");
        assert!(!message.contains("pw"), "{message}");
        assert!(parse_location("sqlite://").is_err());
    }
}
