from dlg_bib.cli import main

main()
