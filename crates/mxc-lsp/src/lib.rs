//! The MXC language server (`mxcc lsp`): diagnostics on open and change, hover,
//! go to definition, find references, completion, document symbols and rename for
//! `.mxc` files, over the Language Server Protocol.
//!
//! **Invariant:** this is the only crate that speaks LSP. It reads policy text only
//! through `mxc-lang` (loader, parser, checker, lints), and converts between byte
//! offsets and LSP's UTF-16 positions only with the source map's one conversion
//! ([`mxc_lang::source::SourceFile::utf16_position`] and `utf16_offset`).
//!
//! [`State`] holds the open documents and answers every request; it knows nothing of
//! the transport, so tests drive it in-process through a [`Notifier`]. [`serve_stdio`]
//! puts it behind `tower-lsp-server` on standard input and output.

pub mod analysis;
mod complete;
pub mod docs;
mod hover;
mod server;
mod state;

pub use server::serve_stdio;
pub use state::{capabilities, range, Notifier, Outbox, RequestError, State};
pub use tower_lsp_server::ls_types;
