//! The unified social credit code (统一社会信用代码), GB 32100-2015:
//! 18 characters from a 31-symbol alphabet, the last a check character.

use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A validated credit code, upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCode(String);

/// Why a credit code is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("must be 18 characters, got {0}")]
    Length(usize),
    #[error("character {position} (`{found}`) is not allowed: only digits and ABCDEFGHJKLMNPQRTUWXY")]
    Character { position: usize, found: char },
    #[error("the check character should be `{expected}`, not `{found}`")]
    CheckDigit { expected: char, found: char },
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

impl CreditCode {
    /// Validates and normalises (upper case, surrounding space trimmed).
    pub fn parse(raw: &str) -> Result<Self, CreditCodeError> {
        let code = raw.trim().to_uppercase();
        let count = code.chars().count();
        if count != 18 {
            return Err(CreditCodeError::Length(count));
        }
        let bytes = code.as_bytes();
        if let Some((position, found)) =
            code.chars().enumerate().find(|(_, c)| !c.is_ascii() || value(*c as u8).is_none())
        {
            return Err(CreditCodeError::Character { position: position + 1, found });
        }
        let sum: u32 = bytes[..17].iter().zip(WEIGHTS).map(|(&c, w)| value(c).unwrap_or(0) * w).sum();
        let expected = ALPHABET[((31 - sum % 31) % 31) as usize] as char;
        let found = bytes[17] as char;
        if expected != found {
            return Err(CreditCodeError::CheckDigit { expected, found });
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_codes() {
        for code in ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"] {
            assert_eq!(CreditCode::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn normalises_case_and_space() {
        assert_eq!(CreditCode::parse(" 91350100m000100y43 ").unwrap().as_str(), "91350100M000100Y43");
    }

    #[test]
    fn check_character_zero_when_remainder_is_zero() {
        // Find a 17-character body whose weighted sum is a multiple of 31: the check is `0`.
        let body = "00000000000000000";
        assert_eq!(CreditCode::parse(&format!("{body}0")).unwrap().as_str(), "000000000000000000");
    }

    #[test]
    fn refuses_wrong_check_digit() {
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(CreditCodeError::CheckDigit { expected: '3', found: '4' })
        );
    }

    #[test]
    fn refuses_bad_length_and_characters() {
        assert_eq!(CreditCode::parse("9135"), Err(CreditCodeError::Length(4)));
        assert!(matches!(CreditCode::parse("91350100I000100Y43"), Err(CreditCodeError::Character { position: 9, .. })));
        assert!(matches!(CreditCode::parse("9135010０M000100Y43"), Err(CreditCodeError::Character { .. })));
    }

    #[test]
    fn every_single_character_change_is_caught() {
        let valid = "91350100M000100Y43";
        for i in 0..18 {
            for &c in ALPHABET {
                let mut b = valid.as_bytes().to_vec();
                if b[i] == c {
                    continue;
                }
                b[i] = c;
                let s = String::from_utf8(b).unwrap();
                assert!(CreditCode::parse(&s).is_err(), "{s} passed");
            }
        }
    }
}
