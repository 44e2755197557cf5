//! The transport: [`State`] served over JSON-RPC with `tower-lsp-server`. Requests
//! lock the state, answer, and unlock before anything is sent; diagnostics collected
//! while the lock was held are published after.

use crate::state::{capabilities, Outbox, RequestError, State};
use std::sync::Mutex;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

pub struct Backend {
    client: Client,
    state: Mutex<State>,
}

fn err(e: RequestError) -> Error {
    Error::invalid_params(e.0)
}

impl Backend {
    fn with<T>(&self, f: impl FnOnce(&mut State, &mut Outbox) -> T) -> (T, Outbox) {
        let mut out = Outbox::default();
        let mut state = match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let t = f(&mut state, &mut out);
        (t, out)
    }

    async fn send(&self, out: Outbox) {
        for p in out.0 {
            self.client
                .publish_diagnostics(p.uri, p.diagnostics, p.version)
                .await;
        }
    }

    fn ask<T>(&self, f: impl FnOnce(&State) -> std::result::Result<T, RequestError>) -> Result<T> {
        self.with(|s, _| f(s)).0.map_err(err)
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
        let ((), out) = self.with(|s, o| s.did_change(p, o));
        self.send(out).await;
    }

    async fn did_close(&self, p: DidCloseTextDocumentParams) {
        let ((), out) = self.with(|s, o| s.did_close(p, o));
        self.send(out).await;
    }

    async fn hover(&self, p: HoverParams) -> Result<Option<Hover>> {
        self.ask(|s| s.hover(p))
    }

    async fn goto_definition(
        &self,
        p: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        self.ask(|s| s.definition(p))
    }

    async fn references(&self, p: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.ask(|s| s.references(p))
    }

    async fn document_symbol(
        &self,
        p: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.ask(|s| s.document_symbols(p))
    }

    async fn formatting(&self, p: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.ask(|s| s.formatting(p))
    }

    async fn completion(&self, p: CompletionParams) -> Result<Option<CompletionResponse>> {
        self.ask(|s| s.completion(p))
    }

    async fn prepare_rename(
        &self,
        p: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.ask(|s| s.prepare_rename(p))
    }

    async fn rename(&self, p: RenameParams) -> Result<Option<WorkspaceEdit>> {
        self.ask(|s| s.rename(p))
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
            state: Mutex::new(State::new()),
        });
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    Ok(())
}
