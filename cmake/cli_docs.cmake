# Made from the built command-line tool at build time (CMakeLists.txt, target elbo_docs):
#   elbo.bash  bash completion: `elbo completion` (subcommands, their options, config keys)
#   elbo.1     the man page: help2man over `elbo --help-all`, when help2man was found (HELP2MAN set);
#              a failure there is a warning, never a failed build.
# Usage: cmake -DELBO=<binary> -DDIR=<output dir> [-DHELP2MAN=<help2man>] -P cli_docs.cmake
execute_process(COMMAND ${ELBO} completion OUTPUT_FILE ${DIR}/elbo.bash.tmp RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "'${ELBO} completion' failed (${status})")
endif()
file(RENAME ${DIR}/elbo.bash.tmp ${DIR}/elbo.bash)
if(HELP2MAN)
  execute_process(COMMAND ${HELP2MAN} --locale=C.UTF-8 --no-info --help-option=--help-all
                          "--name=ELBO-based variational inference: train, evaluate and sample VAEs and other latent-variable models"
                          --output=${DIR}/elbo.1.tmp ${ELBO}
                  RESULT_VARIABLE status ERROR_VARIABLE errors)
  if(status EQUAL 0)
    file(RENAME ${DIR}/elbo.1.tmp ${DIR}/elbo.1)
  else()
    message(WARNING "help2man failed (${status}): no man page. ${errors}")
  endif()
endif()
