# needs: reference models/DLBCL-2H-Hinton-S69/BestModel.bin as BestModel.bin
# needs: data dlbcl/Fold-1 as Fold-1

debinn evaluate --model BestModel.bin --data Fold-1
debinn replay BestModel.bin --data Fold-1
