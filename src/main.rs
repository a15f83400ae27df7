//! The `hsts` command-line tool. See README.md for the contract.
#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
