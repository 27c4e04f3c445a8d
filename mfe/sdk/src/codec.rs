//! serde for the plain, JSON-like JavaScript values the host API exchanges (objects, arrays,
//! strings, numbers, booleans, null).
//!
//! Written for size: it keeps no string cache, and its error type describes an unexpected
//! value itself, so no serde error message ever formats an `f64` with Rust's float formatting
//! (JavaScript turns the number into text instead). That formatting alone costs an app ~14 KB
//! of wasm.

use std::fmt::{self, Display};

use serde::de::{
    self, value::MapAccessDeserializer, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, Visitor,
};
use serde::ser::{self, Serialize};
use wasm_bindgen::{JsCast, JsValue};

/// What went wrong converting a value, in words.
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// serde's own `Display` of [`Unexpected`], but a float goes through JavaScript.
struct Found<'a>(Unexpected<'a>);

impl Display for Found<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Unexpected::Bool(b) => write!(f, "boolean `{b}`"),
            Unexpected::Unsigned(n) => write!(f, "integer `{n}`"),
            Unexpected::Signed(n) => write!(f, "integer `{n}`"),
            Unexpected::Float(n) => {
                let text = String::from(
                    js_sys::Number::from(n)
                        .to_string_with_radix(10)
                        .unwrap_or_default(),
                );
                write!(f, "floating point `{text}`")
            }
            Unexpected::Char(c) => write!(f, "character `{c}`"),
            Unexpected::Str(s) => write!(f, "string \"{s}\""),
            Unexpected::Bytes(_) => f.write_str("byte array"),
            Unexpected::Unit => f.write_str("null"),
            Unexpected::Option => f.write_str("Option value"),
            Unexpected::NewtypeStruct => f.write_str("newtype struct"),
            Unexpected::Seq => f.write_str("sequence"),
            Unexpected::Map => f.write_str("map"),
            Unexpected::Enum => f.write_str("enum"),
            Unexpected::UnitVariant => f.write_str("unit variant"),
            Unexpected::NewtypeVariant => f.write_str("newtype variant"),
            Unexpected::TupleVariant => f.write_str("tuple variant"),
            Unexpected::StructVariant => f.write_str("struct variant"),
            Unexpected::Other(other) => f.write_str(other),
        }
    }
}

impl de::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Self(msg.to_string())
    }

    fn invalid_type(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        Self(format!("invalid type: {}, expected {exp}", Found(unexp)))
    }

    fn invalid_value(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        Self(format!("invalid value: {}, expected {exp}", Found(unexp)))
    }
}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Reads a `T` out of a JavaScript value.
pub fn from_js<T: de::DeserializeOwned>(value: JsValue) -> Result<T, Error> {
    T::deserialize(Deserializer(value))
}

/// Turns `value` into a plain JavaScript value (maps and structs become objects, `None` and
/// `()` become `null`), as `JSON.parse` of its JSON would give.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, Error> {
    value.serialize(Serializer)
}

/// Largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

struct Deserializer(JsValue);

/// What a JavaScript value holds, decided once outside the generic code (which is compiled
/// again for every type read).
enum Kind {
    Unit,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(String),
    Seq(Seq),
    Map(Map),
    Other,
}

impl Kind {
    /// The error for a value a reader expecting `exp` cannot take.
    #[inline(never)]
    fn invalid(self, exp: &dyn de::Expected) -> Error {
        let found = match &self {
            Kind::Unit => Unexpected::Unit,
            Kind::Bool(b) => Unexpected::Bool(*b),
            Kind::Unsigned(n) => Unexpected::Unsigned(*n),
            Kind::Signed(n) => Unexpected::Signed(*n),
            Kind::Float(n) => Unexpected::Float(*n),
            Kind::Str(s) => Unexpected::Str(s),
            Kind::Seq(_) => Unexpected::Seq,
            Kind::Map(_) => Unexpected::Map,
            Kind::Other => Unexpected::Other("JavaScript value"),
        };
        de::Error::invalid_type(found, exp)
    }
}

#[inline(never)]
fn kind(value: JsValue) -> Kind {
    if value.is_null() || value.is_undefined() {
        Kind::Unit
    } else if let Some(b) = value.as_bool() {
        Kind::Bool(b)
    } else if let Some(n) = value.as_f64() {
        if n.fract() != 0.0 || n.abs() > MAX_SAFE_INTEGER {
            Kind::Float(n)
        } else if n >= 0.0 {
            Kind::Unsigned(n as u64)
        } else {
            Kind::Signed(n as i64)
        }
    } else if let Some(s) = value.as_string() {
        Kind::Str(s)
    } else if js_sys::Array::is_array(&value) {
        Kind::Seq(Seq::new(value.unchecked_into()))
    } else if value.is_object() {
        Kind::Map(Map::new(&value))
    } else {
        Kind::Other
    }
}

/// Deserializer methods that take one kind of value and refuse the others.
macro_rules! only {
    ($($method:ident: $kind:ident => $visit:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                match kind(self.0) {
                    Kind::$kind(value) => visitor.$visit(value),
                    other => Err(other.invalid(&visitor)),
                }
            }
        )*
    };
}

/// Deserializer methods that read what another one reads.
macro_rules! same_as {
    ($($method:ident($($arg:ident: $ty:ty),*) => $target:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(
                self,
                $($arg: $ty,)*
                visitor: V,
            ) -> Result<V::Value, Error> {
                self.$target(visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Deserializer {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match kind(self.0) {
            Kind::Unit => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(b),
            Kind::Unsigned(n) => visitor.visit_u64(n),
            Kind::Signed(n) => visitor.visit_i64(n),
            Kind::Float(n) => visitor.visit_f64(n),
            Kind::Str(s) => visitor.visit_string(s),
            Kind::Seq(seq) => visitor.visit_seq(seq),
            Kind::Map(map) => visitor.visit_map(map),
            Kind::Other => Err(Kind::Other.invalid(&visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// `"Variant"` for a unit variant, `{ "Variant": value }` for the others.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if let Some(s) = self.0.as_string() {
            visitor.visit_enum(s.into_deserializer())
        } else if self.0.is_object() && !js_sys::Array::is_array(&self.0) {
            visitor.visit_enum(MapAccessDeserializer::new(Map::new(&self.0)))
        } else {
            self.deserialize_any(visitor)
        }
    }

    // The typed entry points accept only what fits, so a type's reader carries just the
    // visitor calls it can use; numbers, `char`, tuples and anything untyped go through `any`.
    only! {
        deserialize_bool: Bool => visit_bool,
        deserialize_string: Str => visit_string,
        deserialize_seq: Seq => visit_seq,
        deserialize_map: Map => visit_map,
    }

    same_as! {
        deserialize_str() => deserialize_string,
        deserialize_identifier() => deserialize_string,
        deserialize_struct(
            _name: &'static str,
            _fields: &'static [&'static str]
        ) => deserialize_map,
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit unit_struct
        tuple tuple_struct ignored_any
    }
}

impl IntoDeserializer<'_, Error> for Deserializer {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

struct Seq {
    items: js_sys::Array,
    index: u32,
}

impl Seq {
    fn new(items: js_sys::Array) -> Self {
        Self { items, index: 0 }
    }

    fn next_item(&mut self) -> Option<JsValue> {
        if self.index >= self.items.length() {
            return None;
        }
        self.index += 1;
        Some(self.items.get(self.index - 1))
    }
}

impl<'de> SeqAccess<'de> for Seq {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.next_item() {
            Some(item) => seed.deserialize(Deserializer(item)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some((self.items.length() - self.index) as usize)
    }
}

/// An object's own enumerable properties, as `Object.entries` lists them.
struct Map {
    entries: Seq,
    value: JsValue,
}

impl Map {
    fn new(object: &JsValue) -> Self {
        Self {
            entries: Seq::new(js_sys::Object::entries(object.unchecked_ref())),
            value: JsValue::UNDEFINED,
        }
    }
}

impl<'de> MapAccess<'de> for Map {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.entries.next_item() else {
            return Ok(None);
        };
        let entry: js_sys::Array = entry.unchecked_into();
        self.value = entry.get(1);
        seed.deserialize(Deserializer(entry.get(0))).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(Deserializer(std::mem::take(&mut self.value)))
    }

    fn size_hint(&self) -> Option<usize> {
        self.entries.size_hint()
    }
}

struct Serializer;

/// `{ [variant]: value }`, serde's externally tagged enum variants.
fn tagged(variant: &str, value: &JsValue) -> JsValue {
    let object = js_sys::Object::new();
    set(&object, &JsValue::from_str(variant), value);
    object.into()
}

fn set(object: &js_sys::Object, key: &JsValue, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(object, key, value);
}

/// An integer as a JavaScript number, when the number holds it exactly.
fn whole(n: f64, v: impl Display) -> Result<JsValue, Error> {
    if n.abs() > MAX_SAFE_INTEGER {
        return Err(ser::Error::custom(format_args!(
            "{v} is too large for a JavaScript number"
        )));
    }
    Ok(JsValue::from_f64(n))
}

/// Numbers JavaScript holds exactly become numbers.
macro_rules! through_f64 {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method(self, v: $ty) -> Result<JsValue, Error> {
                Ok(JsValue::from_f64(v.into()))
            }
        )*
    };
}

/// Tuple and struct variants: their fields, later wrapped as `{ [variant]: fields }`.
macro_rules! variants {
    ($($method:ident: $fields:ident from $start:ident),*) => {
        $(
            fn $method(
                self,
                _name: &'static str,
                _index: u32,
                variant: &'static str,
                len: usize,
            ) -> Result<Variant<$fields>, Error> {
                Ok(Variant(variant, self.$start(Some(len))?))
            }
        )*
    };
}

impl ser::Serializer for Serializer {
    type Ok = JsValue;
    type Error = Error;
    type SerializeSeq = Array;
    type SerializeTuple = Array;
    type SerializeTupleStruct = Array;
    type SerializeTupleVariant = Variant<Array>;
    type SerializeMap = Object;
    type SerializeStruct = Object;
    type SerializeStructVariant = Variant<Object>;

    fn serialize_bool(self, v: bool) -> Result<JsValue, Error> {
        Ok(JsValue::from_bool(v))
    }

    through_f64! {
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_u8: u8,
        serialize_u16: u16, serialize_u32: u32, serialize_f32: f32, serialize_f64: f64,
    }

    fn serialize_i64(self, v: i64) -> Result<JsValue, Error> {
        whole(v as f64, v)
    }

    fn serialize_u64(self, v: u64) -> Result<JsValue, Error> {
        whole(v as f64, v)
    }

    fn serialize_char(self, v: char) -> Result<JsValue, Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<JsValue, Error> {
        Ok(JsValue::from_str(v))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<JsValue, Error> {
        Ok(js_sys::Uint8Array::from(v).into())
    }

    fn serialize_none(self) -> Result<JsValue, Error> {
        Ok(JsValue::NULL)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<JsValue, Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<JsValue, Error> {
        Ok(JsValue::NULL)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<JsValue, Error> {
        Ok(JsValue::NULL)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<JsValue, Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<JsValue, Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<JsValue, Error> {
        Ok(tagged(variant, &value.serialize(self)?))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Array, Error> {
        Ok(Array(js_sys::Array::new()))
    }

    fn serialize_tuple(self, len: usize) -> Result<Array, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Array, Error> {
        self.serialize_seq(Some(len))
    }

    variants!(
        serialize_tuple_variant: Array from serialize_seq,
        serialize_struct_variant: Object from serialize_map
    );

    fn serialize_map(self, _len: Option<usize>) -> Result<Object, Error> {
        Ok(Object {
            object: js_sys::Object::new(),
            key: JsValue::UNDEFINED,
        })
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Object, Error> {
        self.serialize_map(Some(len))
    }
}

struct Array(js_sys::Array);

impl ser::SerializeSeq for Array {
    type Ok = JsValue;
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.push(&value.serialize(Serializer)?);
        Ok(())
    }

    fn end(self) -> Result<JsValue, Error> {
        Ok(self.0.into())
    }
}

/// Tuples and tuple structs are arrays too.
macro_rules! like_seq {
    ($($trait:ident::$method:ident),*) => {
        $(
            impl ser::$trait for Array {
                type Ok = JsValue;
                type Error = Error;

                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                    ser::SerializeSeq::serialize_element(self, value)
                }

                fn end(self) -> Result<JsValue, Error> {
                    ser::SerializeSeq::end(self)
                }
            }
        )*
    };
}

like_seq!(
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

struct Object {
    object: js_sys::Object,
    key: JsValue,
}

impl ser::SerializeMap for Object {
    type Ok = JsValue;
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = key.serialize(Serializer)?;
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        set(&self.object, &self.key, &value.serialize(Serializer)?);
        Ok(())
    }

    fn end(self) -> Result<JsValue, Error> {
        Ok(self.object.into())
    }
}

impl ser::SerializeStruct for Object {
    type Ok = JsValue;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        set(
            &self.object,
            &JsValue::from_str(key),
            &value.serialize(Serializer)?,
        );
        Ok(())
    }

    fn end(self) -> Result<JsValue, Error> {
        Ok(self.object.into())
    }
}

/// A tuple or struct variant: its fields, then wrapped as `{ [variant]: fields }`.
struct Variant<S>(&'static str, S);

/// Collects a variant's fields as a tuple or struct would, then wraps them.
macro_rules! variant_fields {
    ($(
        $trait:ident for $fields:ident:
        $inner:ident::$add:ident($($key:ident: $kty:ty)?) -> $js:tt
    );* $(;)?) => {
        $(
            impl ser::$trait for Variant<$fields> {
                type Ok = JsValue;
                type Error = Error;

                fn serialize_field<T: Serialize + ?Sized>(
                    &mut self,
                    $($key: $kty,)?
                    value: &T,
                ) -> Result<(), Error> {
                    ser::$inner::$add(&mut self.1, $($key,)? value)
                }

                fn end(self) -> Result<JsValue, Error> {
                    Ok(tagged(self.0, &self.1.$js))
                }
            }
        )*
    };
}

variant_fields! {
    SerializeTupleVariant for Array: SerializeSeq::serialize_element() -> 0;
    SerializeStructVariant for Object:
        SerializeStruct::serialize_field(key: &'static str) -> object;
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::*;

    use super::{from_js, to_js};

    wasm_bindgen_test_configure!(run_in_browser);

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    #[serde(rename_all = "camelCase")]
    enum Shape {
        Dot,
        Circle(f64),
        Pair(u8, i16),
        Rect { width: u32, height: u32 },
    }

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Everything {
        title: String,
        count: u32,
        delta: i64,
        ratio: f64,
        done: bool,
        note: Option<String>,
        missing: Option<u8>,
        letter: char,
        tags: Vec<String>,
        pair: (u8, String),
        shapes: Vec<Shape>,
        by_name: BTreeMap<String, i32>,
        unit: (),
    }

    fn everything() -> Everything {
        Everything {
            title: "milk \"2%\"".into(),
            count: 3,
            delta: -9_007_199_254_740_991,
            ratio: 0.25,
            done: true,
            note: Some("é".into()),
            missing: None,
            letter: 'ß',
            tags: vec!["a".into(), "b".into()],
            pair: (7, "seven".into()),
            shapes: vec![
                Shape::Dot,
                Shape::Circle(1.5),
                Shape::Pair(1, -2),
                Shape::Rect {
                    width: 2,
                    height: 3,
                },
            ],
            by_name: [("x".to_string(), -1), ("y".to_string(), 2)].into(),
            unit: (),
        }
    }

    fn json(value: &JsValue) -> String {
        String::from(js_sys::JSON::stringify(value).unwrap())
    }

    #[wasm_bindgen_test]
    fn values_round_trip_as_plain_json() {
        let value = to_js(&everything()).unwrap();
        assert_eq!(
            json(&value),
            r#"{"title":"milk \"2%\"","count":3,"delta":-9007199254740991,"ratio":0.25,"done":true,"note":"é","missing":null,"letter":"ß","tags":["a","b"],"pair":[7,"seven"],"shapes":["dot",{"circle":1.5},{"pair":[1,-2]},{"rect":{"width":2,"height":3}}],"byName":{"x":-1,"y":2},"unit":null}"#
        );
        assert_eq!(from_js::<Everything>(value).unwrap(), everything());
        let parsed = js_sys::JSON::parse(&json(&to_js(&everything()).unwrap())).unwrap();
        assert_eq!(from_js::<Everything>(parsed).unwrap(), everything());
    }

    #[wasm_bindgen_test]
    fn json_values_and_absent_options_read() {
        let parsed = js_sys::JSON::parse(r#"[1, -2, 2.5, "s", null, true, {"k": [ ]}]"#).unwrap();
        let value: serde_json::Value = from_js(parsed).unwrap();
        assert_eq!(
            value,
            serde_json::json!([1, -2, 2.5, "s", null, true, {"k": []}])
        );
        #[derive(Deserialize, Debug, PartialEq)]
        struct Sparse {
            note: Option<String>,
        }
        let empty = js_sys::Object::new().into();
        assert_eq!(from_js::<Sparse>(empty).unwrap(), Sparse { note: None });
    }

    #[wasm_bindgen_test]
    fn errors_name_what_was_found_and_expected() {
        let message = |text: &str| {
            let parsed = js_sys::JSON::parse(text).unwrap();
            from_js::<Everything>(parsed).unwrap_err().to_string()
        };
        let base = json(&to_js(&everything()).unwrap());
        assert_eq!(
            message(&base.replace(r#""count":3"#, r#""count":2.5"#)),
            "invalid type: floating point `2.5`, expected u32"
        );
        assert_eq!(
            message(&base.replace(r#""count":3"#, r#""count":-3"#)),
            "invalid value: integer `-3`, expected u32"
        );
        assert_eq!(
            message(&base.replace(r#""title":"milk \"2%\"""#, r#""title":7"#)),
            "invalid type: integer `7`, expected a string"
        );
        assert_eq!(
            message(&base.replace(r#""dot""#, r#""square""#)),
            "unknown variant `square`, expected one of `dot`, `circle`, `pair`, `rect`"
        );
        assert_eq!(
            message(&base.replace(r#""done":true,"#, "")),
            "missing field `done`"
        );
        assert_eq!(
            message(&base.replace(r#""letter":"ß""#, r#""letter":"ab""#)),
            "invalid value: string \"ab\", expected a character"
        );
    }

    #[wasm_bindgen_test]
    fn numbers_beyond_javascripts_precision_are_refused() {
        assert!(to_js(&u64::MAX).is_err());
        assert!(to_js(&i64::MIN).is_err());
        assert_eq!(
            to_js(&((1u64 << 53) - 1)).unwrap().as_f64(),
            Some(9_007_199_254_740_991.0)
        );
    }
}
