from leadbaton.cli import main

main()
