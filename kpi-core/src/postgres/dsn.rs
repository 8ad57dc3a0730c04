//! Where a PostgreSQL database is: a connection string parsed once into its parts, with the
//! password kept out of every text the engine prints.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::EngineError;

/// How long connecting may take when the connection string gives no `connect_timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a connection uses TLS, as libpq's `sslmode` says (`prefer` when not given).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TlsMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it.
    #[default]
    Prefer,
    /// TLS or no connection (the certificate is not verified).
    Require,
}

impl TlsMode {
    fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
        }
    }
}

/// A PostgreSQL (or TimescaleDB) database to read from, parsed from a connection string in
/// either of libpq's forms: a URL (`postgresql://user:secret@db.example:5432/sales?sslmode=require`)
/// or key=value pairs (`host=db.example port=5432 user=kpi dbname=sales`).
///
/// The password is part of the value (two connection strings differing only in their password
/// are two databases to the engine's connection pools) but never of its `Display` or `Debug`,
/// so errors, logs, `explain` output and metrics cannot leak it.
///
/// ```
/// use kpi_core::PostgresDsn;
/// let dsn: PostgresDsn = "postgresql://kpi:s3cret@127.0.0.1:5433/sales".parse().unwrap();
/// assert_eq!(dsn.to_string(), "postgresql://kpi@127.0.0.1:5433/sales");
/// assert!(!format!("{dsn:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PostgresDsn {
    /// The host name or address (`localhost` when not given).
    pub host: String,
    /// The TCP port (5432 when not given).
    pub port: u16,
    /// The user (`postgres` when not given).
    pub user: String,
    /// The database (the user's name when not given, as libpq does).
    pub database: String,
    password: Option<String>,
    /// TLS use.
    pub tls: TlsMode,
    /// How long connecting may take.
    pub connect_timeout: Duration,
}

impl PostgresDsn {
    /// `text` with every occurrence of the password replaced, for messages that come from the
    /// driver or the server.
    pub(crate) fn redact(&self, text: &str) -> String {
        match &self.password {
            Some(p) if !p.is_empty() => text.replace(p.as_str(), "********"),
            _ => text.to_string(),
        }
    }

    /// The connection parameters of datafusion-table-providers' connection pool.
    pub(crate) fn pool_params(&self) -> std::collections::HashMap<String, secrecy::SecretString> {
        let mut params: Vec<(&str, String)> = vec![
            ("host", self.host.clone()),
            ("port", self.port.to_string()),
            ("user", self.user.clone()),
            ("db", self.database.clone()),
            ("sslmode", self.tls.as_str().to_string()),
            ("application_name", "kpi-engine".to_string()),
        ];
        if let Some(p) = &self.password {
            params.push(("pass", p.clone()));
        }
        params.into_iter().map(|(k, v)| (k.to_string(), secrecy::SecretString::from(v))).collect()
    }

    /// A data-source error about this database.
    pub(crate) fn error(&self, message: impl AsRef<str>) -> EngineError {
        EngineError::Source { system: "PostgreSQL", location: self.to_string(), message: self.redact(message.as_ref()) }
    }
}

impl FromStr for PostgresDsn {
    type Err = EngineError;

    fn from_str(text: &str) -> Result<PostgresDsn, EngineError> {
        let invalid = |message: String| EngineError::InvalidOption { option: "dsn", message };
        // tokio-postgres knows both forms but only three TLS modes; libpq's verifying modes
        // would silently verify nothing, so they are refused rather than weakened.
        let config = tokio_postgres::Config::from_str(text.trim()).map_err(|e| {
            let shown = match text.rfind('@') {
                Some(at) if text.contains("://") => format!("postgresql://…{}", &text[at..]),
                _ => "the connection string".to_string(),
            };
            invalid(format!("{shown} is not a PostgreSQL connection string ({e}); write postgresql://user:password@host:port/database or host=… port=… user=… dbname=…"))
        })?;
        let host = match config.get_hosts() {
            [] => "localhost".to_string(),
            [tokio_postgres::config::Host::Tcp(h), ..] => h.clone(),
            #[cfg(unix)]
            [tokio_postgres::config::Host::Unix(p), ..] => {
                return Err(invalid(format!("unix sockets ({}) are not supported; connect over TCP with host and port", p.display())));
            }
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("postgres").to_string();
        let database = config.get_dbname().map_or_else(|| user.clone(), str::to_string);
        let password = config.get_password().map(|p| String::from_utf8_lossy(p).into_owned());
        let tls = match config.get_ssl_mode() {
            tokio_postgres::config::SslMode::Disable => TlsMode::Disable,
            tokio_postgres::config::SslMode::Require => TlsMode::Require,
            _ => TlsMode::Prefer,
        };
        let connect_timeout = config.get_connect_timeout().copied().unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        Ok(PostgresDsn { host, port, user, database, password, tls, connect_timeout })
    }
}

impl fmt::Display for PostgresDsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        write!(f, "postgresql://{}@{host}:{}/{}", self.user, self.port, self.database)
    }
}

impl fmt::Debug for PostgresDsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresDsn")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("tls", &self.tls)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_parse_to_the_same_database() {
        let url: PostgresDsn = "postgresql://kpi:pw@db.example:6543/sales?sslmode=disable".parse().unwrap();
        let pairs: PostgresDsn = "host=db.example port=6543 user=kpi password=pw dbname=sales sslmode=disable".parse().unwrap();
        assert_eq!(url, pairs);
        assert_eq!(url.tls, TlsMode::Disable);
        assert_eq!(url.to_string(), "postgresql://kpi@db.example:6543/sales");
    }

    #[test]
    fn defaults_follow_libpq() {
        let dsn: PostgresDsn = "postgresql://analyst@localhost".parse().unwrap();
        assert_eq!((dsn.port, dsn.database.as_str(), dsn.tls), (5432, "analyst", TlsMode::Prefer));
        assert_eq!(dsn.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    }

    #[test]
    fn the_password_never_shows() {
        let dsn: PostgresDsn = "postgresql://kpi:hunter2@h/d".parse().unwrap();
        assert!(!format!("{dsn} {dsn:?}").contains("hunter2"));
        assert_eq!(dsn.redact("password hunter2 rejected"), "password ******** rejected");
        let bad = "postgresql://kpi:hunter2@h:notaport/d".parse::<PostgresDsn>().unwrap_err().to_string();
        assert!(!bad.contains("hunter2"), "{bad}");
        assert!(bad.contains("@h:notaport/d"), "{bad}");
    }
}
