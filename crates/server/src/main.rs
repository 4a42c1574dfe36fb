//! `mozmarket-server`: run the reference server, or use its developer tools from the shell.

fn main() {
    println!("mozmarket-server: not built yet");
}
