// The MXC extension: starts `mxcc lsp` for .mxc files (diagnostics, hover, definition,
// references, completion, symbols, rename). Highlighting comes from the TextMate grammar.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("mxc").get("server.path") || "mxcc";
  const serverOptions = {
    run: { command, args: ["lsp"], transport: TransportKind.stdio },
    debug: { command, args: ["lsp"], transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "mxc" },
      { scheme: "untitled", language: "mxc" },
    ],
  };
  client = new LanguageClient("mxc", "MXC language server", serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
