//! `mxcc lsp` with a real editor: Neovim, headless, starts the server with
//! `vim.lsp.start_client`, opens a policy, reads back its diagnostics, edits the buffer
//! and reads them again. Skipped (with a message) when `nvim` is missing, unless
//! `MXC_REQUIRE_NVIM=1` (CI installs Debian's `neovim` and sets it).

use std::process::Command;

const SCRIPT: &str = r#"
local function run()
  local mxcc, file, out = os.getenv("MXC_NVIM_MXCC"), os.getenv("MXC_NVIM_FILE"), os.getenv("MXC_NVIM_OUT")
  local lines = {}
  local function dump(tag, buf)
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or "?"
      table.insert(lines, string.format("%s %s %d:%d %s", tag, code, d.lnum, d.col, d.message:gsub("\n.*", "")))
    end
  end
  local id = vim.lsp.start_client({ name = "mxc", cmd = { mxcc, "lsp" }, root_dir = vim.fn.fnamemodify(file, ":h") })
  assert(id, "the client did not start")
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(buf, id)
  if not vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 20) then
    table.insert(lines, "timeout waiting for the first diagnostics")
  end
  dump("open", buf)
  -- The edit: the unknown policy `missing` becomes `dev`, and a new unknown `other` appears.
  vim.api.nvim_buf_set_lines(buf, 4, 5, false, { "  use dev, other" })
  local changed = vim.wait(60000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.message:find("other", 1, true) then return true end
    end
    return false
  end, 20)
  if not changed then table.insert(lines, "timeout waiting for the diagnostics after the edit") end
  dump("edit", buf)
  vim.fn.writefile(lines, out)
end
local ok, err = pcall(run)
if not ok then vim.fn.writefile({ "error " .. tostring(err) }, os.getenv("MXC_NVIM_OUT")) end
vim.cmd("qa!")
"#;

#[test]
fn neovim_shows_diagnostics_and_follows_an_edit() {
    let has_nvim = Command::new("nvim")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_nvim {
        assert!(
            std::env::var("MXC_REQUIRE_NVIM").as_deref() != Ok("1"),
            "MXC_REQUIRE_NVIM=1 but `nvim` is not installed"
        );
        eprintln!("skipped: `nvim` is not installed (apt-get install neovim; MXC_REQUIRE_NVIM=1 makes this a failure)");
        return;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lsp-nvim");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.mxc");
    std::fs::write(
        &file,
        "policy dev {\n  fs { allow read \"/srv/**\" }\n}\nagent a {\n  use dev, missing\n}\n",
    )
    .unwrap();
    let script = dir.join("test.lua");
    std::fs::write(&script, SCRIPT).unwrap();
    let out = dir.join("out.txt");
    let status = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("MXC_NVIM_MXCC", env!("CARGO_BIN_EXE_mxcc"))
        .env("MXC_NVIM_FILE", &file)
        .env("MXC_NVIM_OUT", &out)
        .env("HOME", &dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdin(std::process::Stdio::null())
        .status()
        .expect("nvim runs");
    assert!(status.success(), "nvim: {status}");
    let got = std::fs::read_to_string(&out).expect("the script wrote its result");
    assert_eq!(
        got.lines().collect::<Vec<_>>(),
        [
            "open E0002 4:11 unknown policy `missing`",
            "edit E0002 4:11 unknown policy `other`",
        ],
        "{got}"
    );
}
