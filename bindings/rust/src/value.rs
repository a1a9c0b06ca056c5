//! Values going in (statement parameters) and the date/time type of both directions.

use crate::sys;

/// Which of DATE, TIME, DATETIME a [`Time`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeKind {
    Date,
    Time,
    DateTime,
}

/// A DATE, TIME or DATETIME (TIMESTAMP reads as DATETIME), microseconds
/// included. For TIME, `day` is 0 and `hour` holds all the hours (0..838);
/// `negative` only applies to TIME. The zero date '0000-00-00' is all zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Time {
    pub kind: TimeKind,
    pub negative: bool,
    pub year: i32,
    pub month: i32,
    pub day: i32,
    pub hour: i32,
    pub minute: i32,
    pub second: i32,
    pub microsecond: i32,
}

impl Time {
    pub fn date(year: i32, month: i32, day: i32) -> Time {
        Time { kind: TimeKind::Date, negative: false, year, month, day, hour: 0, minute: 0, second: 0, microsecond: 0 }
    }
    pub fn datetime(year: i32, month: i32, day: i32, hour: i32, minute: i32, second: i32, microsecond: i32) -> Time {
        Time { kind: TimeKind::DateTime, negative: false, year, month, day, hour, minute, second, microsecond }
    }
    /// A TIME value: `hours` may be up to 838.
    #[allow(clippy::self_named_constructors)]
    pub fn time(negative: bool, hours: i32, minute: i32, second: i32, microsecond: i32) -> Time {
        Time { kind: TimeKind::Time, negative, year: 0, month: 0, day: 0, hour: hours, minute, second, microsecond }
    }

    pub(crate) fn to_sys(self) -> sys::mywire_time {
        sys::mywire_time {
            kind: match self.kind {
                TimeKind::Date => sys::MYWIRE_TIME_KIND_DATE,
                TimeKind::Time => sys::MYWIRE_TIME_KIND_TIME,
                TimeKind::DateTime => sys::MYWIRE_TIME_KIND_DATETIME,
            },
            negative: self.negative as i32,
            year: self.year,
            month: self.month,
            day: self.day,
            hour: self.hour,
            minute: self.minute,
            second: self.second,
            microsecond: self.microsecond,
        }
    }

    /// None for a kind this crate does not know.
    pub(crate) fn from_sys(t: &sys::mywire_time) -> Option<Time> {
        let kind = match t.kind {
            sys::MYWIRE_TIME_KIND_DATE => TimeKind::Date,
            sys::MYWIRE_TIME_KIND_TIME => TimeKind::Time,
            sys::MYWIRE_TIME_KIND_DATETIME => TimeKind::DateTime,
            _ => return None,
        };
        Some(Time {
            kind,
            negative: t.negative != 0,
            year: t.year,
            month: t.month,
            day: t.day,
            hour: t.hour,
            minute: t.minute,
            second: t.second,
            microsecond: t.microsecond,
        })
    }
}

/// One statement parameter as it goes to the server, with its wire type:
/// each variant is one `mywire_stmt_bind_*` setter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param<'a> {
    Null,
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    F32(f32),
    F64(f64),
    /// Decimal text: `[+-]digits[.digits][e[+-]digits]`, sent as NEWDECIMAL.
    Decimal(&'a str),
    /// Text in the connection's character set.
    Str(&'a str),
    /// Bytes, sent as a BLOB.
    Bytes(&'a [u8]),
    /// JSON text.
    Json(&'a str),
    /// A BIT value.
    Bit(u64),
    Time(Time),
    /// The value sent with [`Statement::send_long_data`](crate::Statement::send_long_data)
    /// (the parameter is left as it is).
    LongData,
    /// In a batch only (MariaDB): the column's default.
    Default,
    /// In a batch only (MariaDB): leave the column as it is.
    Ignore,
}

impl Param<'_> {
    /// The variant's name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Param::Null => "NULL",
            Param::I8(_) => "i8",
            Param::I16(_) => "i16",
            Param::I32(_) => "i32",
            Param::I64(_) => "i64",
            Param::U8(_) => "u8",
            Param::U16(_) => "u16",
            Param::U32(_) => "u32",
            Param::U64(_) => "u64",
            Param::F32(_) => "f32",
            Param::F64(_) => "f64",
            Param::Decimal(_) => "decimal",
            Param::Str(_) => "string",
            Param::Bytes(_) => "bytes",
            Param::Json(_) => "JSON",
            Param::Bit(_) => "BIT",
            Param::Time(_) => "time",
            Param::LongData => "long data",
            Param::Default => "DEFAULT",
            Param::Ignore => "IGNORE",
        }
    }
}

/// A Rust value that can be bound as a statement parameter.
///
/// Implemented for the integers, floats, `bool` (as TINYINT 0/1), strings,
/// byte slices and vectors, [`Time`], [`Param`], `Option<T>` (None is NULL)
/// and references to any of them. Implement it for your own types by
/// returning the [`Param`] they are sent as.
pub trait ToParam {
    fn to_param(&self) -> Param<'_>;
}

macro_rules! to_param {
    ($($t:ty => $v:ident),*) => {
        $(impl ToParam for $t {
            fn to_param(&self) -> Param<'_> { Param::$v(*self) }
        })*
    };
}
to_param!(i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16, u32 => U32, u64 => U64,
          f32 => F32, f64 => F64, Time => Time);

impl ToParam for isize {
    fn to_param(&self) -> Param<'_> {
        Param::I64(*self as i64)
    }
}
impl ToParam for usize {
    fn to_param(&self) -> Param<'_> {
        Param::U64(*self as u64)
    }
}
impl ToParam for bool {
    fn to_param(&self) -> Param<'_> {
        Param::I8(*self as i8)
    }
}
impl ToParam for str {
    fn to_param(&self) -> Param<'_> {
        Param::Str(self)
    }
}
impl ToParam for String {
    fn to_param(&self) -> Param<'_> {
        Param::Str(self)
    }
}
impl ToParam for [u8] {
    fn to_param(&self) -> Param<'_> {
        Param::Bytes(self)
    }
}
impl<const N: usize> ToParam for [u8; N] {
    fn to_param(&self) -> Param<'_> {
        Param::Bytes(self)
    }
}
impl ToParam for Vec<u8> {
    fn to_param(&self) -> Param<'_> {
        Param::Bytes(self)
    }
}
impl ToParam for Param<'_> {
    fn to_param(&self) -> Param<'_> {
        *self
    }
}
impl<T: ToParam> ToParam for Option<T> {
    fn to_param(&self) -> Param<'_> {
        match self {
            Some(v) => v.to_param(),
            None => Param::Null,
        }
    }
}
impl<T: ToParam + ?Sized> ToParam for &T {
    fn to_param(&self) -> Param<'_> {
        (**self).to_param()
    }
}
