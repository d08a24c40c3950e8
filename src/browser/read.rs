//! JSON the widget reads (notices, language files, the stored choice and outbox): parsed by
//! the browser's `JSON.parse`, then checked into Rust types by their serde rules
//! (serde-wasm-bindgen), so the wasm carries no JSON parser of its own.
//!
//! serde-wasm-bindgen reads a struct by asking the object for each of the struct's fields,
//! so it never sees a field the struct lacks, and `deny_unknown_fields`, which the record
//! and notice schemas rely on, would never refuse one (RReverser/serde-wasm-bindgen#39,
//! closed as the format's design). [`Strict`] reads every struct as a map instead, at every
//! depth: the derived visitor then sees every key, as it does under serde_json.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use thiserror::Error;
use wasm_bindgen::{JsCast, JsValue};

use super::describe;

/// Why JSON did not read as the value wanted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonError {
    /// The text is not JSON.
    #[error("it is not JSON ({0})")]
    Syntax(String),
    /// The JSON is not of the value's form (serde's reason, such as a missing field).
    #[error("{0}")]
    Form(String),
}

/// JSON text read into a `T`.
pub fn json<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    value(parse(text)?)
}

/// A JSON array's entries, each read into a `T` on its own, so one bad entry spoils no
/// other; an error if the text is not a JSON array.
pub fn json_entries<T: DeserializeOwned>(
    text: &str,
) -> Result<Vec<Result<T, JsonError>>, JsonError> {
    let parsed = parse(text)?;
    if !js_sys::Array::is_array(&parsed) {
        return Err(JsonError::Form(String::from("it is not an array")));
    }
    Ok(js_sys::Array::from(&parsed).iter().map(value).collect())
}

/// A JavaScript value (as `JSON.parse` gives it) read into a `T`.
pub fn value<T: DeserializeOwned>(parsed: JsValue) -> Result<T, JsonError> {
    if !within_depth(&parsed) {
        return Err(JsonError::Form(String::from("it is nested too deeply")));
    }
    T::deserialize(Strict(serde_wasm_bindgen::Deserializer::from(parsed)))
        .map_err(|e| JsonError::Form(describe(&e.into())))
}

/// How deep a value may nest, as serde_json reads (no schema comes near it). Deeper ones
/// are refused before serde-wasm-bindgen walks them: its message for a value of the wrong
/// type prints the value, and JavaScript runs out of stack printing one nested that deep.
const MAX_DEPTH: usize = 128;

/// Whether no array or object in `value` is nested more than [`MAX_DEPTH`] deep; walked
/// with a list, not by recursion, for the same reason.
fn within_depth(value: &JsValue) -> bool {
    let mut pending = vec![(value.clone(), 0)];
    while let Some((value, depth)) = pending.pop() {
        if value.is_object() {
            if depth == MAX_DEPTH {
                return false;
            }
            let inner = js_sys::Object::values(value.unchecked_ref());
            pending.extend(inner.iter().map(|inner| (inner, depth + 1)));
        }
    }
    true
}

fn parse(text: &str) -> Result<JsValue, JsonError> {
    js_sys::JSON::parse(text).map_err(|e| JsonError::Syntax(describe(&e)))
}

/// A deserializer that reads structs, its own and every one nested in them, as maps.
struct Strict<D>(D);

/// The same for what the visitor is handed: maps, sequences, enums and options.
struct Nested<T>(T);

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method($($arg,)* Nested(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(Nested(visitor))
    }

    forward! {
        deserialize_any(), deserialize_bool(), deserialize_i8(), deserialize_i16(),
        deserialize_i32(), deserialize_i64(), deserialize_u8(), deserialize_u16(),
        deserialize_u32(), deserialize_u64(), deserialize_f32(), deserialize_f64(),
        deserialize_char(), deserialize_str(), deserialize_string(), deserialize_bytes(),
        deserialize_byte_buf(), deserialize_option(), deserialize_unit(),
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str), deserialize_seq(),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize), deserialize_map(),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
        deserialize_identifier(), deserialize_ignored_any(),
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Nested<V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.0.expecting(formatter)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<V::Value, E> {
        self.0.visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.0.visit_i64(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.0.visit_u64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.0.visit_f64(v)
    }
    fn visit_char<E: de::Error>(self, v: char) -> Result<V::Value, E> {
        self.0.visit_char(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.0.visit_str(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.0.visit_string(v)
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.0.visit_bytes(v)
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        self.0.visit_byte_buf(v)
    }
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Strict(d))
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Strict(d))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Nested(seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(Nested(map))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(Nested(data))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nested<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Nested<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Nested(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Nested<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Nested(seed))
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Nested(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Nested<A> {
    type Error = A::Error;
    type Variant = Nested<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(seed)?;
        Ok((value, Nested(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Nested<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Nested(seed))
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Nested(visitor))
    }
    /// A struct variant's fields, read as a map like any struct's.
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.newtype_variant_seed(MapOf(visitor))
    }
}

/// A seed that reads its value as a map, for a struct variant's fields.
struct MapOf<V>(V);

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for MapOf<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        d.deserialize_map(Nested(self.0))
    }
}
