/* train_cli.h: `nncl train`'s loop as a function, so that `nncl demo --train` runs the same one. */
#ifndef NNCL_TRAIN_CLI_H
#define NNCL_TRAIN_CLI_H

/* Runs `nncl train` with argv[1..argc) as its arguments (argv[0] is the command's name); returns
   its exit status. When val_acc is not NULL it receives the validation accuracy (percent) after
   the last epoch, if there is a validation set. */
int train_cli_run(int argc, char **argv, double *val_acc);

#endif
