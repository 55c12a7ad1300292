//! Serde helpers the client APIs' wire types share: a field that is a string or an array
//! (message content in OpenAI chat, Anthropic Messages and OpenAI Responses), read borrowed.

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A string, an array of `T`, or null (a caller that refuses null says so with its own error).
pub(crate) enum TextOrSeq<'a, T> {
    /// `null`.
    Null,
    /// A string, borrowed from the body when it has no escapes.
    Text(Cow<'a, str>),
    /// An array.
    Seq(Vec<T>),
}

/// Read a string, an array of `T` or null; `expecting` names the field's shape in errors.
pub(crate) fn text_or_seq<'de: 'a, 'a, D, T>(
    d: D,
    expecting: &'static str,
) -> Result<TextOrSeq<'a, T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(V {
        expecting,
        _t: PhantomData,
    })
}

struct V<'a, T> {
    expecting: &'static str,
    _t: PhantomData<(&'a (), T)>,
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for V<'a, T> {
    type Value = TextOrSeq<'a, T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(TextOrSeq::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(TextOrSeq::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(TextOrSeq::Text(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(TextOrSeq::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // The size hint is the client's claim; capped so it cannot reserve much up front.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(TextOrSeq::Seq(items))
    }
}
