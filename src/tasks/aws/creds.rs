//! Credentials for signing: the standard AWS chain (`aws-config`'s `DefaultCredentialsChain`:
//! environment, shared config/credentials files with `AWS_PROFILE`, web identity, ECS container
//! and EC2 instance roles) or fixed keys, cached and refreshed before they expire.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

/// Credentials are fetched again this long before they expire, so no request is signed with
/// keys that lapse in flight.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Where signing keys come from, with a cache in front.
///
/// The cache is a std `RwLock` read on every call (no await under it); a tokio mutex makes
/// refreshes single-flight, so a thousand executions that find the keys stale ask the chain once.
pub struct CredentialSource {
    kind: Kind,
    cached: std::sync::RwLock<Option<Credentials>>,
    refresh: tokio::sync::Mutex<()>,
}

enum Kind {
    Fixed(Credentials),
    /// Any provider (an embedder's own, or a test's).
    Provider(SharedCredentialsProvider),
    /// The standard chain, built on first use (building it reads files and is async).
    Chain {
        region: String,
        provider: tokio::sync::OnceCell<SharedCredentialsProvider>,
    },
}

impl CredentialSource {
    /// The standard chain for `region` (used by web identity and SSO lookups).
    pub fn default_chain(region: &str) -> CredentialSource {
        CredentialSource::with(Kind::Chain {
            region: region.to_string(),
            provider: tokio::sync::OnceCell::new(),
        })
    }

    /// Fixed keys (tests, embedders that manage credentials themselves).
    pub fn fixed(access_key: &str, secret_key: &str, session_token: Option<&str>) -> Self {
        let creds = Credentials::new(
            access_key,
            secret_key,
            session_token.map(str::to_string),
            None,
            "expressway-fixed",
        );
        CredentialSource::with(Kind::Fixed(creds))
    }

    /// Any `aws-credential-types` provider, behind the same cache and refresh rule.
    pub fn provider(provider: SharedCredentialsProvider) -> CredentialSource {
        CredentialSource::with(Kind::Provider(provider))
    }

    fn with(kind: Kind) -> CredentialSource {
        CredentialSource {
            kind,
            cached: std::sync::RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// Keys to sign with now: the cached ones while fresh, else the chain's.
    pub async fn get(&self) -> Result<Credentials, String> {
        let provider = match &self.kind {
            Kind::Fixed(c) => return Ok(c.clone()),
            Kind::Provider(p) => p.clone(),
            Kind::Chain { region, provider } => provider
                .get_or_init(|| async { chain(region).await })
                .await
                .clone(),
        };
        if let Some(c) = self.fresh() {
            return Ok(c);
        }
        let _single = self.refresh.lock().await;
        if let Some(c) = self.fresh() {
            return Ok(c);
        }
        let creds = provider.provide_credentials().await.map_err(|e| {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg = format!("{msg}: {s}");
                source = s.source();
            }
            format!("Unable to load AWS credentials from any provider in the chain: {msg}")
        })?;
        *self.cached.write().unwrap_or_else(|p| p.into_inner()) = Some(creds.clone());
        Ok(creds)
    }

    fn fresh(&self) -> Option<Credentials> {
        let guard = self.cached.read().unwrap_or_else(|p| p.into_inner());
        let c = guard.as_ref()?;
        match c.expiry() {
            Some(expiry) if expiry <= SystemTime::now() + REFRESH_MARGIN => None,
            _ => Some(c.clone()),
        }
    }
}

/// `aws-config`'s default chain, on an https client that uses rustls with the `ring` provider.
async fn chain(region: &str) -> SharedCredentialsProvider {
    use aws_config::default_provider::credentials::DefaultCredentialsChain;
    use aws_config::provider_config::ProviderConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = ProviderConfig::without_region()
        .with_http_client(http)
        .with_region(Some(aws_config::Region::new(region.to_string())));
    let chain = DefaultCredentialsChain::builder()
        .configure(config)
        .build()
        .await;
    SharedCredentialsProvider::new(chain)
}
