//! A position in PostgreSQL's write-ahead log (`pg_lsn`), as the server
//! prints it: two hexadecimal halves of a 64-bit byte offset, `16/B374D848`.
//! Read-your-writes compares them: a replica that has replayed past a
//! write's position holds that write.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a WAL position is two hexadecimal numbers joined by a slash, such as 16/B374D848")]
pub struct BadLsn;

impl FromStr for Lsn {
    type Err = BadLsn;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (high, low) = s.trim().split_once('/').ok_or(BadLsn)?;
        let half = |h: &str| {
            if h.is_empty() || h.len() > 8 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(BadLsn);
            }
            u32::from_str_radix(h, 16).map_err(|_| BadLsn)
        };
        Ok(Lsn((u64::from(half(high)?) << 32) | u64::from(half(low)?)))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_prints_the_servers_form() {
        let lsn: Lsn = "16/B374D848".parse().unwrap();
        assert_eq!(lsn.0, (0x16 << 32) | 0xB374_D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!("0/0".parse::<Lsn>().unwrap(), Lsn(0));
        assert_eq!(
            " 0/3000148 ".parse::<Lsn>().unwrap().to_string(),
            "0/3000148"
        );
    }

    #[test]
    fn orders_by_the_whole_offset_not_the_text() {
        let a: Lsn = "0/FFFFFFFF".parse().unwrap();
        let b: Lsn = "1/0".parse().unwrap();
        assert!(a < b);
        assert!("0/9".parse::<Lsn>().unwrap() < "0/10".parse::<Lsn>().unwrap());
    }

    #[test]
    fn refuses_what_is_not_a_position() {
        for bad in [
            "",
            "16",
            "/1",
            "1/",
            "g/1",
            "1/2/3",
            "123456789/0",
            "-1/0",
            "1/+2",
        ] {
            assert_eq!(bad.parse::<Lsn>(), Err(BadLsn), "{bad:?}");
        }
    }
}
