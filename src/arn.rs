//! A small ARN newtype. No maintained crate parses ARNs; the rules we need are few.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl Arn {
    pub(crate) const RULE: &'static str =
        "an ARN: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, e.g. arn:aws:iam::123456789012:role/Deployer";

    pub(crate) fn parse(flag: &str, value: &str) -> Result<Self> {
        value.parse().map_err(|()| Error::invalid(flag, value, Self::RULE))
    }
}

impl FromStr for Arn {
    type Err = ();

    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        let mut parts = s.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(());
        };
        let account_ok = account.is_empty() || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
        if partition.is_empty() || service.is_empty() || resource.is_empty() || !account_ok {
            return Err(());
        }
        Ok(Arn {
            partition: partition.into(),
            service: service.into(),
            region: region.into(),
            account: account.into(),
            resource: resource.into(),
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = "arn:aws:iam::123456789012:role/Deployer";
        let arn: Arn = s.parse().unwrap();
        assert_eq!(arn.to_string(), s);
        let _with_path: Arn = "arn:aws:iam::123456789012:role/team/Deployer".parse().unwrap();
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "arn",
            "arn:aws:iam::1:role/x",
            "aws:iam::123456789012:role/x",
            "arn::iam::123456789012:role/x",
            "arn:aws:iam::123456789012:",
        ] {
            assert!(bad.parse::<Arn>().is_err(), "{bad}");
        }
    }
}
