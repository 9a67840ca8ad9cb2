//! Procedural macros of the oxtee TA SDK (`oxtee-utee` re-exports them):
//! the five entry-point attributes, in the Teaclave TrustZone SDK's shape,
//! and `ta_config!`, which writes the TA's header, heap and property table.
//!
//! The code they generate names the SDK as `::oxtee_utee`, so a TA must
//! depend on it under that name. The entry points become functions with
//! reserved names (`__oxtee_ta_*`) that the SDK's runtime calls.
#![forbid(unsafe_code)]

mod config;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::{Error, FnArg, ItemFn, ReturnType, Type, parse_macro_input};

/// The function's signature must be a plain `fn` (no `async`, `const`,
/// `unsafe`, ABI, generics or variadics) with `inputs` typed arguments.
fn check_plain(f: &ItemFn, attr: &str, inputs: &[usize], shape: &str) -> Result<(), Error> {
    let s = &f.sig;
    let plain = s.constness.is_none()
        && s.asyncness.is_none()
        && s.unsafety.is_none()
        && s.abi.is_none()
        && s.generics.params.is_empty()
        && s.generics.where_clause.is_none()
        && s.variadic.is_none()
        && s.inputs.iter().all(|a| matches!(a, FnArg::Typed(_)))
        && inputs.contains(&s.inputs.len());
    if plain { Ok(()) } else { Err(Error::new_spanned(&f.sig, format!("`#[{attr}]` function must be `{shape}`"))) }
}

fn no_return(f: &ItemFn, attr: &str, shape: &str) -> Result<(), Error> {
    match f.sig.output {
        ReturnType::Default => Ok(()),
        _ => Err(Error::new_spanned(&f.sig.output, format!("`#[{attr}]` function must be `{shape}`"))),
    }
}

fn has_return(f: &ItemFn, attr: &str, shape: &str) -> Result<(), Error> {
    match f.sig.output {
        ReturnType::Type(..) => Ok(()),
        _ => Err(Error::new_spanned(&f.sig, format!("`#[{attr}]` function must be `{shape}`"))),
    }
}

/// `T` of an argument typed `&mut T`.
fn context_type(arg: &FnArg) -> Result<&Type, Error> {
    if let FnArg::Typed(t) = arg
        && let Type::Reference(r) = &*t.ty
        && r.mutability.is_some()
    {
        return Ok(&r.elem);
    }
    Err(Error::new_spanned(arg, "the session context must be taken as `&mut T` (T: Default + 'static)"))
}

/// The function as written, followed by the entry point `f` derives
/// from it (or the error explaining why it cannot).
fn expand(input: TokenStream, f: impl FnOnce(&ItemFn) -> Result<TokenStream2, Error>) -> TokenStream {
    let item = parse_macro_input!(input as ItemFn);
    match f(&item) {
        Ok(entry) => quote!(#item #entry).into(),
        Err(e) => {
            let err = e.to_compile_error();
            quote!(#item #err).into()
        }
    }
}

fn reject_args(args: TokenStream, attr: &str) -> Result<(), TokenStream> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(Error::new(Span::call_site(), format!("`#[{attr}]` takes no arguments")).to_compile_error().into())
    }
}

/// The instance's create entry point (GP `TA_CreateEntryPoint`), run once
/// before its first session opens: `fn() -> oxtee_utee::Result<()>`. An
/// error fails that open.
#[proc_macro_attribute]
pub fn ta_create(args: TokenStream, input: TokenStream) -> TokenStream {
    if let Err(e) = reject_args(args, "ta_create") {
        return e;
    }
    const SHAPE: &str = "fn() -> Result<()>";
    expand(input, |f| {
        check_plain(f, "ta_create", &[0], SHAPE)?;
        has_return(f, "ta_create", SHAPE)?;
        let ident = &f.sig.ident;
        Ok(quote! {
            #[doc(hidden)]
            #[unsafe(no_mangle)]
            pub fn __oxtee_ta_create() -> ::oxtee_utee::Result<()> {
                #ident()
            }
        })
    })
}

/// The instance's destroy entry point (GP `TA_DestroyEntryPoint`), run
/// after its last session closes unless it is kept alive: `fn()`.
#[proc_macro_attribute]
pub fn ta_destroy(args: TokenStream, input: TokenStream) -> TokenStream {
    if let Err(e) = reject_args(args, "ta_destroy") {
        return e;
    }
    const SHAPE: &str = "fn()";
    expand(input, |f| {
        check_plain(f, "ta_destroy", &[0], SHAPE)?;
        no_return(f, "ta_destroy", SHAPE)?;
        let ident = &f.sig.ident;
        Ok(quote! {
            #[doc(hidden)]
            #[unsafe(no_mangle)]
            pub fn __oxtee_ta_destroy() {
                #ident()
            }
        })
    })
}

/// Opens a session (GP `TA_OpenSessionEntryPoint`):
/// `fn(&mut Parameters) -> Result<()>`, or
/// `fn(&mut Parameters, &mut T) -> Result<()>` to fill in the session's
/// context `T` (`Default + 'static`; created with `T::default()`). An
/// error refuses the session.
#[proc_macro_attribute]
pub fn ta_open_session(args: TokenStream, input: TokenStream) -> TokenStream {
    if let Err(e) = reject_args(args, "ta_open_session") {
        return e;
    }
    const SHAPE: &str = "fn(&mut Parameters) -> Result<()>` or `fn(&mut Parameters, &mut T) -> Result<()>";
    expand(input, |f| {
        check_plain(f, "ta_open_session", &[1, 2], SHAPE)?;
        has_return(f, "ta_open_session", SHAPE)?;
        let ident = &f.sig.ident;
        let call = match f.sig.inputs.len() {
            1 => quote!(#ident(params)),
            _ => {
                let t = context_type(&f.sig.inputs[1])?;
                quote!(#ident(params, ctx.get_or_insert_default::<#t>()))
            }
        };
        Ok(quote! {
            #[doc(hidden)]
            #[unsafe(no_mangle)]
            #[allow(unused_variables)]
            pub fn __oxtee_ta_open_session(
                params: &mut ::oxtee_utee::Parameters<'_>,
                ctx: &mut ::oxtee_utee::__private::SessionContext,
            ) -> ::oxtee_utee::Result<()> {
                #call
            }
        })
    })
}

/// Closes a session (GP `TA_CloseSessionEntryPoint`): `fn()` or
/// `fn(&mut T)` with the session's context.
#[proc_macro_attribute]
pub fn ta_close_session(args: TokenStream, input: TokenStream) -> TokenStream {
    if let Err(e) = reject_args(args, "ta_close_session") {
        return e;
    }
    const SHAPE: &str = "fn()` or `fn(&mut T)";
    expand(input, |f| {
        check_plain(f, "ta_close_session", &[0, 1], SHAPE)?;
        no_return(f, "ta_close_session", SHAPE)?;
        let ident = &f.sig.ident;
        let call = match f.sig.inputs.len() {
            0 => quote!(#ident()),
            _ => {
                let t = context_type(&f.sig.inputs[0])?;
                quote!(#ident(ctx.get_or_insert_default::<#t>()))
            }
        };
        Ok(quote! {
            #[doc(hidden)]
            #[unsafe(no_mangle)]
            #[allow(unused_variables)]
            pub fn __oxtee_ta_close_session(ctx: &mut ::oxtee_utee::__private::SessionContext) {
                #call
            }
        })
    })
}

/// Serves a command (GP `TA_InvokeCommandEntryPoint`):
/// `fn(u32, &mut Parameters) -> Result<()>`, or
/// `fn(&mut T, u32, &mut Parameters) -> Result<()>` with the session's
/// context first.
#[proc_macro_attribute]
pub fn ta_invoke_command(args: TokenStream, input: TokenStream) -> TokenStream {
    if let Err(e) = reject_args(args, "ta_invoke_command") {
        return e;
    }
    const SHAPE: &str = "fn(u32, &mut Parameters) -> Result<()>` or `fn(&mut T, u32, &mut Parameters) -> Result<()>";
    expand(input, |f| {
        check_plain(f, "ta_invoke_command", &[2, 3], SHAPE)?;
        has_return(f, "ta_invoke_command", SHAPE)?;
        let ident = &f.sig.ident;
        let call = match f.sig.inputs.len() {
            2 => quote!(#ident(cmd, params)),
            _ => {
                let t = context_type(&f.sig.inputs[0])?;
                quote!(#ident(ctx.get_or_insert_default::<#t>(), cmd, params))
            }
        };
        Ok(quote! {
            #[doc(hidden)]
            #[unsafe(no_mangle)]
            #[allow(unused_variables)]
            pub fn __oxtee_ta_invoke_command(
                ctx: &mut ::oxtee_utee::__private::SessionContext,
                cmd: u32,
                params: &mut ::oxtee_utee::Parameters<'_>,
            ) -> ::oxtee_utee::Result<()> {
                #call
            }
        })
    })
}

/// Declares the TA: its header, heap and property table.
///
/// ```ignore
/// oxtee_utee::ta_config! {
///     uuid: "8aaaf200-2450-11e4-abe2-0002a5d5c51b", // or a const `oxtee_utee::Uuid` or `&str`
///     flags: SINGLE_INSTANCE | MULTI_SESSION,        // `ta_flags` names, or any u32 const
///     stack_size: 16 * 1024,                         // gpd.ta.stackSize
///     data_size: 64 * 1024,                          // gpd.ta.dataSize: the heap
///     version: "1.0",                                // optional
///     description: "what it does",                   // optional
///     properties: {                                  // optional, names not "gpd."
///         "org.example.max": u32 = 16,
///         "org.example.name": str = "x",
///         "org.example.on": bool = true,
///         "org.example.big": u64 = 1 << 40,
///         "org.example.peer": uuid = "8aaaf200-2450-11e4-abe2-0002a5d5c51b",
///         "org.example.blob": binary = b"\x01\x02",  // or base64 text
///         "org.example.who": identity = (0, "8aaaf200-2450-11e4-abe2-0002a5d5c51b"),
///     },
/// }
/// ```
#[proc_macro]
pub fn ta_config(input: TokenStream) -> TokenStream {
    let cfg = parse_macro_input!(input as config::Config);
    match cfg.expand() {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}
