fn try_lex(name: &str, text: &str) {
    eprintln!("try {name}");
    let (toks, d) = mxc_lang::lexer::lex(mxc_lang::FileId(0), text);
    eprintln!("  ok {} {}", toks.len(), d.len());
}
#[test]
fn find() {
    let n: usize = std::env::var("N").unwrap().parse().unwrap();
    let which = std::env::var("W").unwrap();
    let body = match which.as_str() {
        "fffd" => "\u{fffd}".repeat(n),
        "nul" => "\0".repeat(n),
        "mix" => "\u{fffd}\0\u{1}x".repeat(n / 4),
        "esc" => "\\x".repeat(n / 2),
        "bs" => "\\".repeat(n),
        _ => "x".repeat(n),
    };
    try_lex("unterminated", &format!("\"{body}"));
    try_lex("terminated", &format!("\"{body}\""));
}
