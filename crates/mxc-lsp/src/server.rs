//! The transport: [`State`] served over JSON-RPC with `tower-lsp-server`. Requests
//! lock the state, answer, and unlock before anything is sent; diagnostics collected
//! while the lock was held are published after.
//!
//! An edit is applied at once but analysed only after a pause in typing
//! ([`PAUSE`]: a burst of keystrokes is analysed once, not once per key, which on a
//! policy of thousands of rules is the difference between typing and waiting), or
//! before the next request is answered, whichever comes first, so that answers always
//! read the text the client has.

use crate::state::{capabilities, Outbox, RequestError, State};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

/// How long the text must stay unchanged before an edit is analysed.
pub const PAUSE: Duration = Duration::from_millis(150);

pub struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
}

fn err(e: RequestError) -> Error {
    Error::invalid_params(e.0)
}

fn with<T>(state: &Mutex<State>, f: impl FnOnce(&mut State, &mut Outbox) -> T) -> (T, Outbox) {
    let mut out = Outbox::default();
    let mut state = match state.lock() {
        Ok(s) => s,
        Err(poisoned) => poisoned.into_inner(),
    };
    let t = f(&mut state, &mut out);
    (t, out)
}

async fn send(client: &Client, out: Outbox) {
    for p in out.0 {
        client
            .publish_diagnostics(p.uri, p.diagnostics, p.version)
            .await;
    }
}

impl Backend {
    fn with<T>(&self, f: impl FnOnce(&mut State, &mut Outbox) -> T) -> (T, Outbox) {
        with(&self.state, f)
    }

    async fn send(&self, out: Outbox) {
        send(&self.client, out).await
    }

    /// Answers a request, analysing first what was edited since the last analysis.
    async fn ask<T>(
        &self,
        f: impl FnOnce(&State) -> std::result::Result<T, RequestError>,
    ) -> Result<T> {
        let (r, out) = self.with(|s, o| {
            s.flush(o);
            f(s)
        });
        self.send(out).await;
        r.map_err(err)
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, _: InitializeParams) -> Result<InitializeResult> {
        Ok(InitializeResult {
            capabilities: capabilities(),
            server_info: Some(ServerInfo {
                name: "mxcc lsp".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            ..Default::default()
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, p: DidOpenTextDocumentParams) {
        let ((), out) = self.with(|s, o| s.did_open(p, o));
        self.send(out).await;
    }

    async fn did_change(&self, p: DidChangeTextDocumentParams) {
        let (edited, _) = self.with(|s, _| {
            let uri = s.edit(p)?;
            let version = s.version(&uri)?;
            Some((uri, version))
        });
        let Some((uri, version)) = edited else { return };
        let state = Arc::clone(&self.state);
        let client = self.client.clone();
        tokio::spawn(async move {
            tokio::time::sleep(PAUSE).await;
            let ((), out) = with(&state, |s, o| s.flush_if(&uri, version, o));
            send(&client, out).await;
        });
    }

    async fn did_close(&self, p: DidCloseTextDocumentParams) {
        let ((), out) = self.with(|s, o| s.did_close(p, o));
        self.send(out).await;
    }

    async fn hover(&self, p: HoverParams) -> Result<Option<Hover>> {
        self.ask(|s| s.hover(p)).await
    }

    async fn goto_definition(
        &self,
        p: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        self.ask(|s| s.definition(p)).await
    }

    async fn references(&self, p: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.ask(|s| s.references(p)).await
    }

    async fn document_symbol(
        &self,
        p: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.ask(|s| s.document_symbols(p)).await
    }

    async fn formatting(&self, p: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.ask(|s| s.formatting(p)).await
    }

    async fn completion(&self, p: CompletionParams) -> Result<Option<CompletionResponse>> {
        self.ask(|s| s.completion(p)).await
    }

    async fn prepare_rename(
        &self,
        p: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.ask(|s| s.prepare_rename(p)).await
    }

    async fn rename(&self, p: RenameParams) -> Result<Option<WorkspaceEdit>> {
        self.ask(|s| s.rename(p)).await
    }
}

/// Serves the language server on standard input and output until the client says
/// `exit` (or closes the input).
pub fn serve_stdio() -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (service, socket) = LspService::new(|client| Backend {
            client,
            state: Arc::new(Mutex::new(State::new())),
        });
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    Ok(())
}
