//! The built-in functions, by kind, and the table that names them.
//!
//! In: a `$name` and the dialect, at compile time ([`lookup`] gives the parser a [`BuiltinId`]
//! for the tree), then at run time an id ([`get`]) or a name ([`find`], for names no scope binds).
//! Out: the [`Builtin`]: its signature (parsed on first use) and implementation, which takes
//! arguments already validated against that signature. Never here: function application
//! (`apply`), parsing, or state beyond the evaluation's `Ctx`.
//!
//! The kinds: `strings`, `numbers` (and `number_format`, `integer_format` for pictures),
//! `arrays` (arrays and objects), `higher_order`, `dates`, `control` (`$type`, `$error`,
//! `$assert`, `$eval`) and `step_functions` (that dialect's additions).

mod arrays;
mod control;
mod dates;
mod higher_order;
pub(crate) mod integer_format;
mod number_format;
mod numbers;
mod step_functions;
mod strings;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};

use super::apply::CallCx;
use super::ast::BuiltinId;
use super::eval::{Ctx, R};
use super::numfmt::describe;
use super::signature::Signature;
use super::value::{V, append, deep_clone, truthy};
use super::{Error, Options};

/// A built-in's implementation: the evaluation, the validated arguments, where it was called.
pub(crate) type BFn = fn(&Ctx, &[Option<V>], &CallCx) -> R;

/// A built-in function: its name, signature text (parsed on first use) and implementation.
pub(crate) struct Builtin {
    pub name: &'static str,
    sig_text: &'static str,
    sig: OnceLock<Signature>,
    pub f: BFn,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}", self.name)
    }
}

impl Builtin {
    pub(crate) fn new(name: &'static str, sig_text: &'static str, f: BFn) -> Builtin {
        Builtin {
            name,
            sig_text,
            sig: OnceLock::new(),
            f,
        }
    }

    pub fn signature(&self) -> &Signature {
        self.sig
            .get_or_init(|| Signature::parse(self.sig_text).expect("built-in signatures are valid"))
    }
}

fn b(name: &'static str, sig_text: &'static str, f: BFn) -> Builtin {
    Builtin::new(name, sig_text, f)
}

/// Every built-in once, indexed by [`BuiltinId`], with the names each dialect binds.
struct Table {
    all: Vec<Builtin>,
    plain: HashMap<&'static str, BuiltinId>,
    /// Step Functions' additions, which shadow the plain ones (`$random`) in that dialect.
    step_functions: HashMap<&'static str, BuiltinId>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut all = plain_table();
    all.extend(number_format::table());
    all.extend(dates::table());
    let plain_len = all.len();
    all.extend(step_functions::table());
    let id = |i: usize| BuiltinId(u16::try_from(i).expect("fewer than 65536 built-ins"));
    let names = |range: std::ops::Range<usize>| -> HashMap<&'static str, BuiltinId> {
        range.map(|i| (all[i].name, id(i))).collect()
    };
    let plain = names(0..plain_len);
    let step_functions = names(plain_len..all.len());
    Table {
        all,
        plain,
        step_functions,
    }
});

/// The built-in `$name` denotes in the given dialect, when no scope binds the name.
pub(crate) fn lookup(name: &str, opts: Options) -> Option<BuiltinId> {
    let table = &*TABLE;
    if opts.step_functions {
        if name == "eval" {
            return None;
        }
        if let Some(id) = table.step_functions.get(name) {
            return Some(*id);
        }
    }
    table.plain.get(name).copied()
}

/// The built-in an id from [`lookup`] stands for.
pub(crate) fn get(id: BuiltinId) -> &'static Builtin {
    &TABLE.all[usize::from(id.0)]
}

/// [`lookup`] then [`get`]: the built-in a name denotes at run time.
pub(crate) fn find(name: &str, opts: Options) -> Option<&'static Builtin> {
    lookup(name, opts).map(get)
}

fn plain_table() -> Vec<Builtin> {
    use arrays::*;
    use control::*;
    use higher_order::*;
    use numbers::*;
    use strings::*;
    vec![
        b("sum", "<a<n>:n>", sum),
        b("count", "<a:n>", count),
        b("max", "<a<n>:n>", max),
        b("min", "<a<n>:n>", min),
        b("average", "<a<n>:n>", average),
        b("string", "<x-b?:s>", string),
        b("substring", "<s-nn?:s>", substring),
        b("substringBefore", "<s-s:s>", substring_before),
        b("substringAfter", "<s-s:s>", substring_after),
        b("lowercase", "<s-:s>", |_, a, _| {
            on_str(a, |s| V::string(s.to_lowercase()))
        }),
        b("uppercase", "<s-:s>", |_, a, _| {
            on_str(a, |s| V::string(s.to_uppercase()))
        }),
        b("length", "<s-:n>", |_, a, _| {
            on_str(a, |s| V::Num(s.chars().count() as f64))
        }),
        b("trim", "<s-:s>", trim),
        b("pad", "<s-ns?:s>", pad),
        b("match", "<s-f<s:o>n?:a<o>>", match_fn),
        b("contains", "<s-(sf):b>", contains),
        b("replace", "<s-(sf)(sf)n?:s>", replace),
        b("split", "<s-(sf)n?:a<s>>", split),
        b("join", "<a<s>s?:s>", join),
        b("number", "<(nsb)-:n>", number),
        b("floor", "<n-:n>", |_, a, _| on_num(a, f64::floor)),
        b("ceil", "<n-:n>", |_, a, _| on_num(a, f64::ceil)),
        b("round", "<n-n?:n>", round),
        b("abs", "<n-:n>", |_, a, _| on_num(a, f64::abs)),
        b("sqrt", "<n-:n>", sqrt),
        b("power", "<n-n:n>", power),
        b("random", "<:n>", |_, _, _| {
            Ok(Some(V::Num(rand::random::<f64>())))
        }),
        b("boolean", "<x-:b>", |_, a, _| {
            Ok(truthy(a[0].as_ref()).map(V::Bool))
        }),
        b("not", "<x-:b>", |_, a, _| {
            Ok(truthy(a[0].as_ref()).map(|x| V::Bool(!x)))
        }),
        b("map", "<af>", map),
        b("zip", "<a+>", zip),
        b("filter", "<af>", filter),
        b("single", "<af?>", single),
        b("reduce", "<afj?:j>", reduce),
        b("sift", "<o-f?:o>", sift),
        b("keys", "<x-:a<s>>", keys),
        b("lookup", "<x-s:x>", |_, a, _| {
            Ok(lookup_all(a[0].as_ref(), s1(a, 1).as_deref().unwrap_or("")))
        }),
        b("append", "<xx:a>", |cx, a, _| {
            let r = append(a[0].clone(), a[1].clone()).map(plain);
            if let Some(V::Arr(arr)) = &r {
                cx.check_items(arr.items.len())?;
                cx.charge_items(arr.items.len())?;
            }
            Ok(r)
        }),
        b("exists", "<x:b>", |_, a, _| {
            Ok(Some(V::Bool(a[0].is_some())))
        }),
        b("spread", "<x-:a<o>>", |_, a, _| Ok(spread(a[0].as_ref()))),
        b("merge", "<a<o>:o>", merge),
        b("reverse", "<a:a>", reverse),
        b("each", "<o-f:a>", each),
        b("error", "<s?:x>", error),
        b("assert", "<bs?:x>", assert),
        b("type", "<x:s>", type_of),
        b("sort", "<af?:a>", sort),
        b("shuffle", "<a:a>", shuffle),
        b("distinct", "<x:x>", distinct),
        b("base64encode", "<s-:s>", base64encode),
        b("base64decode", "<s-:s>", base64decode),
        b("encodeUrlComponent", "<s-:s>", |_, a, _| {
            url(a, "encodeUrlComponent", true, true)
        }),
        b("encodeUrl", "<s-:s>", |_, a, _| {
            url(a, "encodeUrl", true, false)
        }),
        b("decodeUrlComponent", "<s-:s>", |_, a, _| {
            url(a, "decodeUrlComponent", false, true)
        }),
        b("decodeUrl", "<s-:s>", |_, a, _| {
            url(a, "decodeUrl", false, false)
        }),
        b("eval", "<sx?:x>", eval_fn),
        b("clone", "<(oa)-:o>", |_, a, _| {
            a[0].as_ref().map(|v| deep_clone(v, 0)).transpose()
        }),
    ]
}

/// `f` of the string argument; undefined stays undefined.
fn on_str(a: &[Option<V>], f: impl FnOnce(&str) -> V) -> R {
    Ok(s0(a).map(|s| f(&s)))
}

/// `f` of the number argument; undefined stays undefined.
fn on_num(a: &[Option<V>], f: impl FnOnce(f64) -> f64) -> R {
    Ok(n0(a).map(|x| V::Num(f(x))))
}

pub(crate) fn s0(a: &[Option<V>]) -> Option<Arc<str>> {
    s1(a, 0)
}

pub(crate) fn s1(a: &[Option<V>], i: usize) -> Option<Arc<str>> {
    match a.get(i) {
        Some(Some(V::Str(s))) => Some(s.clone()),
        _ => None,
    }
}

pub(crate) fn n0(a: &[Option<V>]) -> Option<f64> {
    n1(a, 0)
}

pub(crate) fn n1(a: &[Option<V>], i: usize) -> Option<f64> {
    match a.get(i) {
        Some(Some(V::Num(x))) => Some(*x),
        _ => None,
    }
}

pub(crate) fn err_v(code: &str, v: Option<&V>) -> Error {
    let mut e = Error::new(code, None, None);
    e.detail_mut().value = v.map(describe);
    e
}
