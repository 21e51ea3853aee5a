//! `userIdentity`, read leniently: an object with the keys ctaudit uses
//! (any case), or anything else, which counts as no identity.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Identity, Key, Loose, key_is};

/// `userIdentity` as found: an object, or anything else (null, a string),
/// which counts as no identity.
pub(super) struct MaybeIdentity<'a>(pub(super) Option<Identity<'a>>);

impl<'de> de::Deserialize<'de> for MaybeIdentity<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeIdentity<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a userIdentity object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut id = Identity::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let k = key.as_ref();
                    let slot = if k == "type" {
                        &mut id.kind
                    } else if key_is(k, "principalId") {
                        &mut id.principal_id
                    } else if k == "arn" || k == "ARN" {
                        &mut id.arn
                    } else if key_is(k, "accountId") {
                        &mut id.account_id
                    } else if key_is(k, "accessKeyId") || key_is(k, "accesKeyId") {
                        &mut id.access_key_id
                    } else if key_is(k, "userName") {
                        &mut id.user_name
                    } else if key_is(k, "invokedBy") {
                        &mut id.invoked_by
                    } else if key_is(k, "identityProvider") {
                        &mut id.identity_provider
                    } else if k == "sessionContext" {
                        map.next_value_seed(SessionContextSeed(&mut id))?;
                        continue;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    *slot = map.next_value::<Loose<'de>>()?;
                }
                Ok(MaybeIdentity(Some(id)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeIdentity(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeIdentity(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Reads `sessionContext.sessionIssuer` and `sessionContext.webIdFederationData`
/// into the identity; everything else in it is skipped.
struct SessionContextSeed<'i, 'a>(&'i mut Identity<'a>);

impl<'de> DeserializeSeed<'de> for SessionContextSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SessionContextSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sessionContext object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "sessionIssuer" => {
                    let [arn, kind] = map.next_value_seed(Pick(["arn", "type"]))?;
                    self.0.session_issuer_arn = arn;
                    self.0.session_issuer_type = kind;
                }
                "webIdFederationData" => {
                    let [provider] = map.next_value_seed(Pick(["federatedProvider"]))?;
                    self.0.federated_provider = provider;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// The first scalar value under each of the names in one object (`Absent`
/// where there is none), as [`super::Flat::get`] would find it, without
/// collecting the object's other members: they are skipped unread. Anything
/// that is not an object gives nothing.
struct Pick<const N: usize>([&'static str; N]);

impl<const N: usize> Pick<N> {
    /// Nothing under any of the names.
    fn nothing<'de>() -> [Loose<'de>; N] {
        std::array::from_fn(|_| Loose::Absent)
    }
}

impl<'de, const N: usize> DeserializeSeed<'de> for Pick<N> {
    type Value = [Loose<'de>; N];
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Pick<N> {
    type Value = [Loose<'de>; N];
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Self::nothing();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match self.0.iter().position(|name| *name == key) {
                Some(i) if matches!(out[i], Loose::Absent) => {
                    let value = map.next_value::<Loose<'de>>()?;
                    if !matches!(value, Loose::Composite) {
                        out[i] = value;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Self::nothing())
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Self::nothing())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Self::nothing())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Self::nothing())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Self::nothing())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Self::nothing())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::nothing())
    }
}
