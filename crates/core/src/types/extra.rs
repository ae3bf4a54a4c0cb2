use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde_json::{Map, Value};

/// Fields of a wire object that llmops has no typed field for.
///
/// Every wire type flattens one of these, so a field that a newer client or
/// provider sends survives a parse and serialize round trip unchanged.
pub type ExtraFields = Map<String, Value>;

/// An object key, borrowed from the input when it has no escapes.
pub(super) struct Key<'de>(pub(super) Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an object key")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }

            fn visit_string<E: de::Error>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Implements `Deserialize` for a wire struct whose last field is
/// `extra: ExtraFields`.
///
/// `#[serde(flatten)]` would do the same, but serde then buffers every field
/// of the object before decoding it, which halves stream decoding speed on
/// chunks with nested unknown objects (Azure's `content_filter_results`).
/// This reads each known field straight into its type and every other field
/// into `extra`. A field listed with `= default` may be absent; one listed
/// with `= required` may not. `"wire" as field` names a field whose wire
/// name differs from its Rust name.
macro_rules! deserialize_with_extra {
    (
        $ty:ident, $expecting:literal,
        { $($wire:literal as $field:ident : $fty:ty = $how:tt $(($default:expr))?),* $(,)? }
    ) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct FieldVisitor;

                impl<'de> ::serde::de::Visitor<'de> for FieldVisitor {
                    type Value = $ty;

                    fn expecting(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        formatter.write_str($expecting)
                    }

                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        $(let mut $field: Option<$fty> = None;)*
                        let mut extra = $crate::types::ExtraFields::new();
                        while let Some(key) = map.next_key::<$crate::types::extra::Key<'de>>()? {
                            match key.0.as_ref() {
                                $($wire => {
                                    if $field.is_some() {
                                        return Err(::serde::de::Error::duplicate_field($wire));
                                    }
                                    $field = Some(map.next_value()?);
                                })*
                                _ => {
                                    let value = map.next_value()?;
                                    extra.insert(key.0.into_owned(), value);
                                }
                            }
                        }
                        Ok($ty {
                            $($field: deserialize_with_extra!(@finish $field, $wire, $how $(($default))?),)*
                            extra,
                        })
                    }
                }

                deserializer.deserialize_map(FieldVisitor)
            }
        }
    };
    (@finish $field:ident, $wire:literal, required) => {
        $field.ok_or_else(|| ::serde::de::Error::missing_field($wire))?
    };
    (@finish $field:ident, $wire:literal, default) => {
        $field.unwrap_or_default()
    };
    (@finish $field:ident, $wire:literal, default ($default:expr)) => {
        $field.unwrap_or_else($default)
    };
}

pub(super) use deserialize_with_extra;
