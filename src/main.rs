fn main() -> std::process::ExitCode {
    voucherdeck::cli::main()
}
