fn main() {
    std::process::exit(dlc::cli::main());
}
