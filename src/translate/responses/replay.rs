//! How a reasoning item's `encrypted_content` carries Bedrock's signed reasoning to the next
//! request (basalt is stateless, so the item itself must hold everything Bedrock needs):
//!
//! - signed reasoning text: `bsr1.<base64url(text)>.<signature>` — the text travels with its
//!   signature, so a replay does not depend on the client sending the summary back unchanged;
//! - redacted reasoning: `bsr1-redacted.<data>` — Bedrock's encrypted bytes (base64), verbatim.
//!
//! The content is opaque to clients, as OpenAI's is; it is not encrypted by basalt (Bedrock's
//! signature already makes tampering fail upstream).

use crate::bedrock::types as cv;
use crate::error::GatewayError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::borrow::Cow;

const SIGNED: &str = "bsr1.";
const REDACTED: &str = "bsr1-redacted.";

/// The `encrypted_content` of signed reasoning text.
pub(crate) fn signed(text: &str, signature: &str) -> String {
    let mut out = String::with_capacity(SIGNED.len() + text.len() * 4 / 3 + signature.len() + 4);
    out.push_str(SIGNED);
    URL_SAFE_NO_PAD.encode_string(text, &mut out);
    out.push('.');
    out.push_str(signature);
    out
}

/// The `encrypted_content` of redacted reasoning.
pub(crate) fn redacted(data: &str) -> String {
    format!("{REDACTED}{data}")
}

/// An `encrypted_content` back to the reasoning block to replay; `param` names it in errors.
pub(crate) fn decode<'a>(
    content: &'a str,
    param: &str,
) -> Result<cv::ReasoningContent<'a>, GatewayError> {
    let foreign = || {
        GatewayError::invalid(
            "`encrypted_content` was not produced by basalt: only reasoning items from basalt's own answers can be replayed",
            Some(param),
        )
    };
    if let Some(data) = content.strip_prefix(REDACTED) {
        if data.is_empty() {
            return Err(foreign());
        }
        return Ok(cv::ReasoningContent::RedactedContent(Cow::Borrowed(data)));
    }
    let rest = content.strip_prefix(SIGNED).ok_or_else(foreign)?;
    let (text, signature) = rest.split_once('.').ok_or_else(foreign)?;
    let text = URL_SAFE_NO_PAD.decode(text).map_err(|_| foreign())?;
    let text = String::from_utf8(text).map_err(|_| foreign())?;
    if signature.is_empty() {
        return Err(foreign());
    }
    Ok(cv::ReasoningContent::ReasoningText(cv::ReasoningText {
        text: Cow::Owned(text),
        signature: Some(Cow::Borrowed(signature)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_foreign_content() {
        let e = signed("Let me think: 2+2 = 4 ✓", "c2ln/+==");
        match decode(&e, "p").unwrap() {
            cv::ReasoningContent::ReasoningText(t) => {
                assert_eq!(t.text, "Let me think: 2+2 = 4 ✓");
                assert_eq!(t.signature.as_deref(), Some("c2ln/+=="));
            }
            other => panic!("{other:?}"),
        }
        let r = redacted("ZGF0YQ==");
        assert!(matches!(
            decode(&r, "p").unwrap(),
            cv::ReasoningContent::RedactedContent(d) if d == "ZGF0YQ=="
        ));
        for bad in [
            "gAAAAABo-openai",
            "bsr1.!!!.sig",
            "bsr1.YQ",
            "bsr1.YQ.",
            "bsr1-redacted.",
        ] {
            let e = decode(bad, "input[0].encrypted_content").unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
            assert_eq!(e.param(), Some("input[0].encrypted_content"));
        }
    }
}
