//! `ta_config!`: parsing the declaration and writing, in upstream's
//! layout and names, `ta_head` (section `.ta_head`), `ta_heap` and
//! `ta_heap_size`, `ta_props` and `ta_num_props`, plus the accessor the
//! SDK reads them through.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use std::ffi::CString;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Error, Expr, ExprLit, Ident, Lit, LitByteStr, LitCStr, LitStr, Token, braced};

/// One custom property: `"name": kind = value`.
struct Property {
    name: LitStr,
    kind: Ident,
    value: Expr,
}

impl Parse for Property {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: LitStr = input.parse()?;
        input.parse::<Token![:]>()?;
        let kind: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let value: Expr = input.parse()?;
        Ok(Property { name, kind, value })
    }
}

pub struct Config {
    uuid: Option<Expr>,
    flags: Option<Expr>,
    stack_size: Option<Expr>,
    data_size: Option<Expr>,
    version: Option<LitStr>,
    description: Option<LitStr>,
    properties: Vec<Property>,
}

impl Parse for Config {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut c = Config {
            uuid: None,
            flags: None,
            stack_size: None,
            data_size: None,
            version: None,
            description: None,
            properties: Vec::new(),
        };
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let dup = || Error::new(key.span(), format!("`{key}` given twice"));
            match key.to_string().as_str() {
                "uuid" => c.uuid.replace(input.parse()?).map_or(Ok(()), |_| Err(dup()))?,
                "flags" => c.flags.replace(input.parse()?).map_or(Ok(()), |_| Err(dup()))?,
                "stack_size" => c.stack_size.replace(input.parse()?).map_or(Ok(()), |_| Err(dup()))?,
                "data_size" => c.data_size.replace(input.parse()?).map_or(Ok(()), |_| Err(dup()))?,
                "version" => c.version.replace(input.parse()?).map_or(Ok(()), |_| Err(dup()))?,
                "description" => c.description.replace(input.parse()?).map_or(Ok(()), |_| Err(dup()))?,
                "properties" => {
                    let body;
                    braced!(body in input);
                    let list = Punctuated::<Property, Token![,]>::parse_terminated(&body)?;
                    c.properties.extend(list);
                }
                other => {
                    return Err(Error::new(
                        key.span(),
                        format!(
                            "unknown key `{other}` (expected uuid, flags, stack_size, data_size, version, \
                             description, properties)"
                        ),
                    ));
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(c)
    }
}

/// Parses `8-4-4-4-12` hex into (time_low, time_mid, time_hi, node).
fn parse_uuid(s: &str) -> Option<(u32, u16, u16, [u8; 8])> {
    let parts: Vec<&str> = s.split('-').collect();
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    if lens != [8, 4, 4, 4, 12] || !s.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()) {
        return None;
    }
    let node_hex = format!("{}{}", parts[3], parts[4]);
    let mut node = [0u8; 8];
    for (i, n) in node.iter_mut().enumerate() {
        *n = u8::from_str_radix(&node_hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some((
        u32::from_str_radix(parts[0], 16).ok()?,
        u16::from_str_radix(parts[1], 16).ok()?,
        u16::from_str_radix(parts[2], 16).ok()?,
        node,
    ))
}

/// A UUID given as a string literal (checked here) or a const expression
/// of type `oxtee_utee::Uuid` or `&'static str` (e.g. a proto crate's
/// `UUID`, parsed at compile time: a malformed one stops the build).
fn uuid_expr(e: &Expr) -> syn::Result<TokenStream> {
    if let Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) = e {
        let (tl, tm, th, node) =
            parse_uuid(&s.value()).ok_or_else(|| Error::new(s.span(), "not a UUID (8-4-4-4-12 hex digits)"))?;
        return Ok(quote!(::oxtee_utee::Uuid::new(#tl, #tm, #th, [#(#node),*])));
    }
    Ok(quote!(::oxtee_utee::__private::UuidSource(#e).uuid()))
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let mut acc = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            acc |= (*b as u32) << (16 - 8 * i);
        }
        for i in 0..4 {
            out.push(if i <= chunk.len() { A[(acc >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

fn cstr(s: &str, span: Span) -> syn::Result<LitCStr> {
    let c = CString::new(s).map_err(|_| Error::new(span, "must not contain NUL"))?;
    Ok(LitCStr::new(&c, span))
}

fn string_lit(e: &Expr, what: &str) -> syn::Result<LitStr> {
    match e {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.clone()),
        _ => Err(Error::new_spanned(e, format!("{what}: expected a string literal"))),
    }
}

/// The property table being written: value statics and entries.
#[derive(Default)]
struct Table {
    statics: Vec<TokenStream>,
    entries: Vec<TokenStream>,
}

impl Table {
    /// An entry whose value lives in its own static of type `ty`.
    fn valued(&mut self, i: usize, name: LitCStr, ty: TokenStream, init: TokenStream, ctor: &str) {
        let v = format_ident!("__OXTEE_PROP_{}", i);
        let ctor = format_ident!("{}", ctor);
        self.statics.push(quote!(static #v: #ty = #init;));
        self.entries.push(quote!(__p::UserTaProperty::#ctor(#name, &#v)));
    }
}

impl Config {
    pub fn expand(self) -> syn::Result<TokenStream> {
        let need = |v: Option<Expr>, k: &str| v.ok_or_else(|| Error::new(Span::call_site(), format!("missing `{k}`")));
        let uuid = uuid_expr(&need(self.uuid, "uuid")?)?;
        let flags = need(self.flags, "flags")?;
        let stack = need(self.stack_size, "stack_size")?;
        let data = need(self.data_size, "data_size")?;
        let span = Span::call_site();
        let version = cstr(&self.version.map_or("Undefined version".into(), |v| v.value()), span)?;
        let description = cstr(&self.description.map_or("Undefined description".into(), |v| v.value()), span)?;

        // (value statics, table entries), standard properties first, in
        // upstream's order.
        let mut table = Table::default();
        let flag = |bit: &str| {
            let bit = format_ident!("{}", bit);
            quote!((__FLAGS & ::oxtee_utee::ta_flags::#bit != 0) as u32)
        };
        let std_props = [
            ("gpd.ta.singleInstance", quote!(u32), flag("SINGLE_INSTANCE"), "bool"),
            ("gpd.ta.multiSession", quote!(u32), flag("MULTI_SESSION"), "bool"),
            ("gpd.ta.instanceKeepAlive", quote!(u32), flag("INSTANCE_KEEP_ALIVE"), "bool"),
            ("gpd.ta.dataSize", quote!(u32), quote!(__DATA as u32), "u32"),
            ("gpd.ta.stackSize", quote!(u32), quote!(__STACK), "u32"),
            ("gpd.ta.endian", quote!(u32), quote!(0), "u32"),
        ];
        let mut n = 0;
        for (name, ty, init, ctor) in std_props {
            table.valued(n, cstr(name, span)?, ty, init, ctor);
            n += 1;
        }
        table.entries.push(quote!(__p::UserTaProperty::string(c"gpd.ta.version", #version)));
        table.entries.push(quote!(__p::UserTaProperty::string(c"gpd.ta.description", #description)));

        for p in &self.properties {
            let pname = p.name.value();
            if pname.starts_with("gpd.") {
                return Err(Error::new(p.name.span(), "custom property names must not start with `gpd.`"));
            }
            let name = cstr(&pname, p.name.span())?;
            let value = &p.value;
            match p.kind.to_string().as_str() {
                "bool" => table.valued(n, name, quote!(u32), quote!({ let v: bool = #value; v as u32 }), "bool"),
                "u32" => table.valued(n, name, quote!(u32), quote!(#value), "u32"),
                "u64" => table.valued(n, name, quote!(u64), quote!(#value), "u64"),
                "uuid" => {
                    let u = uuid_expr(value)?;
                    table.valued(n, name, quote!(__p::TeeUuid), quote!((#u).to_tee_uuid()), "uuid")
                }
                "identity" => {
                    let Expr::Tuple(t) = value else {
                        return Err(Error::new_spanned(value, "identity: expected `(login, uuid)`"));
                    };
                    if t.elems.len() != 2 {
                        return Err(Error::new_spanned(value, "identity: expected `(login, uuid)`"));
                    }
                    let login = &t.elems[0];
                    let u = uuid_expr(&t.elems[1])?;
                    table.valued(
                        n,
                        name,
                        quote!(__p::TeeIdentity),
                        quote!(__p::TeeIdentity { login: #login, uuid: (#u).to_tee_uuid() }),
                        "identity",
                    )
                }
                "str" | "string" => {
                    let s = cstr(&string_lit(value, "str")?.value(), p.name.span())?;
                    table.entries.push(quote!(__p::UserTaProperty::string(#name, #s)));
                }
                "binary" => {
                    let text = match value {
                        Expr::Lit(ExprLit { lit: Lit::ByteStr(b), .. }) => base64(&LitByteStr::value(b)),
                        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => s.value(),
                        _ => return Err(Error::new_spanned(value, "binary: expected b\"bytes\" or base64 text")),
                    };
                    let s = cstr(&text, p.name.span())?;
                    table.entries.push(quote!(__p::UserTaProperty::binary_base64(#name, #s)));
                }
                other => {
                    return Err(Error::new(
                        p.kind.span(),
                        format!("unknown property type `{other}` (bool, u32, u64, str, uuid, identity, binary)"),
                    ));
                }
            }
            n += 1;
        }
        let Table { statics, entries } = table;
        let count = entries.len();

        Ok(quote! {
            #[allow(non_upper_case_globals)]
            const _: () = {
                use ::oxtee_utee::__private as __p;

                const __UUID: ::oxtee_utee::Uuid = #uuid;
                const __FLAGS: u32 = __p::check_flags({
                    #[allow(unused_imports)]
                    use ::oxtee_utee::ta_flags::*;
                    #flags
                });
                const __STACK: u32 = #stack;
                const __DATA: usize = #data;

                // Kept by `no_mangle` and the linker script's KEEP; `#[used]`
                // would mark the section SHF_GNU_RETAIN and so the file
                // ELFOSABI_GNU, which loaders (upstream's ldelf too) refuse.
                #[unsafe(no_mangle)]
                #[unsafe(link_section = ".ta_head")]
                static ta_head: __p::TaHead = __p::ta_head(__UUID, __STACK, __FLAGS);

                #[unsafe(no_mangle)]
                static ta_heap: __p::TaHeap<[u8; __DATA]> = __p::TaHeap::new();

                #[unsafe(no_mangle)]
                static ta_heap_size: usize = __DATA;

                #(#statics)*

                #[unsafe(no_mangle)]
                static ta_props: [__p::UserTaProperty; #count] = [#(#entries),*];

                #[unsafe(no_mangle)]
                static ta_num_props: usize = #count;

                #[unsafe(no_mangle)]
                fn __oxtee_ta_config() -> __p::TaConfig {
                    __p::TaConfig {
                        head: &ta_head,
                        props: &ta_props,
                        heap: &ta_heap,
                        stack_size: __STACK,
                        data_size: __DATA as u32,
                    }
                }
            };
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_text() {
        assert_eq!(
            parse_uuid("8aaaf200-2450-11e4-abe2-0002a5d5c51b"),
            Some((0x8aaa_f200, 0x2450, 0x11e4, [0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b]))
        );
        assert_eq!(parse_uuid("8AAAF200-2450-11E4-ABE2-0002A5D5C51B").map(|u| u.0), Some(0x8aaa_f200));
        for bad in [
            "",
            "8aaaf200-2450-11e4-abe2-0002a5d5c51",
            "8aaaf2002450-11e4-abe2-0002a5d5c51b0",
            "+aaaf200-2450-11e4-abe2-0002a5d5c51b",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
    }

    #[test]
    fn base64_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), enc);
        }
    }

    #[test]
    fn parses_and_expands_a_full_declaration() {
        let cfg: Config = syn::parse_str(
            r#"uuid: "8aaaf200-2450-11e4-abe2-0002a5d5c51b", flags: SINGLE_INSTANCE | MULTI_SESSION,
               stack_size: 16 * 1024, data_size: 64 * 1024, version: "1.0", description: "d",
               properties: { "a.b": u32 = 7, "a.c": str = "x", "a.d": binary = b"\x01", "a.e": bool = true, }"#,
        )
        .unwrap();
        let out = cfg.expand().unwrap().to_string();
        assert!(out.contains("link_section = \".ta_head\""));
        assert!(out.contains("ta_props"));
        assert!(out.contains("\"AQ==\""));
        assert!(out.contains(&format!("{}u32", 0x8aaa_f200u32)), "{out}");
    }

    #[test]
    fn rejects_gpd_names_and_missing_keys() {
        let cfg: Config =
            syn::parse_str(r#"uuid: "8aaaf200-2450-11e4-abe2-0002a5d5c51b", flags: 0, stack_size: 1, data_size: 1, properties: { "gpd.x": u32 = 1 }"#)
                .unwrap();
        assert!(cfg.expand().is_err());
        let cfg: Config = syn::parse_str(r#"flags: 0, stack_size: 1, data_size: 1"#).unwrap();
        assert!(cfg.expand().is_err());
        assert!(syn::parse_str::<Config>(r#"colour: 1"#).is_err());
    }
}
