//! Entity types that recognizers report.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::GuardError;

macro_rules! entities {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $secret:literal;)*) => {
        /// Kind of sensitive value or toxic term a [`Finding`](crate::Finding)
        /// covers.
        ///
        /// Names follow Presidio where one exists (`EMAIL_ADDRESS`, `US_SSN`, `KR_RRN`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum EntityType {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl EntityType {
            /// Every entity type, in declaration order.
            pub const ALL: &'static [EntityType] = &[$(EntityType::$variant,)*];

            /// Returns the upper-case name, as used in placeholders and configs.
            pub fn as_str(self) -> &'static str {
                match self { $(EntityType::$variant => $name,)* }
            }

            /// Returns true for credentials such as API keys and private keys.
            pub fn is_secret(self) -> bool {
                match self { $(EntityType::$variant => $secret,)* }
            }
        }
    };
}

entities! {
    /// Korean resident registration number (주민등록번호).
    KrRrn => "KR_RRN", false;
    /// Korean foreigner registration number (외국인등록번호).
    KrFrn => "KR_FRN", false;
    /// Korean business registration number (사업자등록번호).
    KrBrn => "KR_BRN", false;
    /// Korean corporate registration number (법인등록번호).
    KrCrn => "KR_CRN", false;
    /// Korean driver's licence number.
    KrDriverLicense => "KR_DRIVER_LICENSE", false;
    /// Korean passport number.
    KrPassport => "KR_PASSPORT", false;
    /// Korean bank account number.
    KrBankAccount => "KR_BANK_ACCOUNT", false;
    /// Telephone number.
    PhoneNumber => "PHONE_NUMBER", false;
    /// E-mail address.
    EmailAddress => "EMAIL_ADDRESS", false;
    /// Payment card number.
    CreditCard => "CREDIT_CARD", false;
    /// International bank account number.
    IbanCode => "IBAN_CODE", false;
    /// US social security number.
    UsSsn => "US_SSN", false;
    /// IPv4 or IPv6 address.
    IpAddress => "IP_ADDRESS", false;
    /// HTTP or HTTPS URL.
    Url => "URL", false;
    /// Date of birth, found only next to a context word.
    DateOfBirth => "DATE_OF_BIRTH", false;
    /// Bitcoin or Ethereum wallet address.
    CryptoWallet => "CRYPTO_WALLET", false;
    /// Person name, from a plugged-in model.
    Person => "PERSON", false;
    /// Location or address, from a plugged-in model.
    Location => "LOCATION", false;
    /// Organisation name, from a plugged-in model.
    Organization => "ORGANIZATION", false;
    /// AWS access key id.
    AwsAccessKey => "AWS_ACCESS_KEY", true;
    /// GitHub token.
    GithubToken => "GITHUB_TOKEN", true;
    /// OpenAI API key.
    OpenAiKey => "OPENAI_API_KEY", true;
    /// Anthropic API key.
    AnthropicKey => "ANTHROPIC_API_KEY", true;
    /// Slack token.
    SlackToken => "SLACK_TOKEN", true;
    /// Google API key.
    GoogleApiKey => "GOOGLE_API_KEY", true;
    /// Hugging Face access token.
    HuggingFaceToken => "HUGGINGFACE_TOKEN", true;
    /// Stripe API key.
    StripeKey => "STRIPE_KEY", true;
    /// PEM private key block.
    PrivateKey => "PRIVATE_KEY", true;
    /// JSON web token.
    Jwt => "JWT", true;
    /// Password or other secret assigned to a key such as `password` or `api_key`.
    GenericSecret => "GENERIC_SECRET", true;
    /// Insulting term, from a toxicity lexicon.
    Insult => "INSULT", false;
    /// Threat of violence, from a toxicity lexicon.
    Threat => "THREAT", false;
    /// Attack on a group identity (slur), from a toxicity lexicon.
    IdentityAttack => "IDENTITY_ATTACK", false;
    /// Profanity, from a toxicity lexicon.
    Profanity => "PROFANITY", false;
    /// Sexually explicit term, from a toxicity lexicon.
    SexuallyExplicit => "SEXUALLY_EXPLICIT", false;
}

impl EntityType {
    /// The categories a [`ToxicityLexicon`](crate::ToxicityLexicon) sorts
    /// terms into.
    pub const TOXICITY: &'static [EntityType] = &[
        EntityType::Insult,
        EntityType::Threat,
        EntityType::IdentityAttack,
        EntityType::Profanity,
        EntityType::SexuallyExplicit,
    ];

    /// Returns true for the toxicity categories.
    pub fn is_toxicity(self) -> bool {
        Self::TOXICITY.contains(&self)
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityType {
    type Err = GuardError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        EntityType::ALL
            .iter()
            .copied()
            .find(|entity| entity.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| GuardError::UnknownEntity {
                name: name.to_owned(),
            })
    }
}
