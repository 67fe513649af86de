/**
 * The torchvision architectures the analyzer and the probe can see inside (`models.resnet18(...)`),
 * written once, here, as the Python the interpreter reads: built from the published architecture
 * (He et al. 2015, "Deep Residual Learning for Image Recognition": 7x7/2 stem, 3x3 max pool, four
 * stages of basic or bottleneck blocks with a 1x1 projection where the shape changes, global average
 * pool, one Linear) with torchvision's own initialization (convolutions kaiming_normal_ fan_out for
 * relu, BatchNorm weight 1 and bias 0, the Linear at PyTorch's default; with zero_init_residual=True,
 * each block's last BatchNorm weight 0, set in the block here where torchvision loops over modules()). The stride of a bottleneck
 * stage sits on its 3x3 convolution, as in torchvision since v0.3 ("ResNet v1.5").
 *
 * A call of one of them is evaluated like a user's class from another file (see imported.ts): its
 * layers appear in the model at the line of the call, and what the code does afterwards (`.fc`
 * replaced, `list(resnet.children())[:-1]`) applies to them. Pretrained weights are never read.
 */
import { Parser, type Language } from 'web-tree-sitter';
import { PyFile } from '../../python/file';
import type { Node } from '../../python/syntax-tree';

/** Path the catalogue's source is known by (never a file of the workspace). */
export const TORCHVISION_PATH = '<torchvision catalogue>';

const SOURCE = `
import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, zero_init=False):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        if zero_init:
            nn.init.constant_(self.bn2.weight, 0)

    def forward(self, x):
        shortcut = x
        if self.downsample is not None:
            shortcut = self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + shortcut)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, zero_init=False):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        if zero_init:
            nn.init.constant_(self.bn3.weight, 0)

    def forward(self, x):
        shortcut = x
        if self.downsample is not None:
            shortcut = self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + shortcut)


class ResNet(nn.Module):
    def __init__(self, block, depths, num_classes=1000, zero_init_residual=False):
        super().__init__()
        self.inplanes = 64
        self.zero_init = zero_init_residual
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self.stage(block, 64, depths[0], 1)
        self.layer2 = self.stage(block, 128, depths[1], 2)
        self.layer3 = self.stage(block, 256, depths[2], 2)
        self.layer4 = self.stage(block, 512, depths[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def stage(self, block, planes, count, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        blocks = [block(self.inplanes, planes, stride, downsample, self.zero_init)]
        self.inplanes = planes * block.expansion
        for _ in range(1, count):
            blocks.append(block(self.inplanes, planes, 1, None, self.zero_init))
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet18(pretrained=False, progress=True, weights=None, num_classes=1000, zero_init_residual=False, **kwargs):
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, zero_init_residual)


def resnet34(pretrained=False, progress=True, weights=None, num_classes=1000, zero_init_residual=False, **kwargs):
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes, zero_init_residual)


def resnet50(pretrained=False, progress=True, weights=None, num_classes=1000, zero_init_residual=False, **kwargs):
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, zero_init_residual)


def resnet101(pretrained=False, progress=True, weights=None, num_classes=1000, zero_init_residual=False, **kwargs):
    return ResNet(Bottleneck, [3, 4, 23, 3], num_classes, zero_init_residual)


def resnet152(pretrained=False, progress=True, weights=None, num_classes=1000, zero_init_residual=False, **kwargs):
    return ResNet(Bottleneck, [3, 8, 36, 3], num_classes, zero_init_residual)
`;

/** Whether code may call a builder of the catalogue (a cheap word test before running a function for it). */
export function mentionsBuilder(text: string): boolean {
  return /\bresnet(?:18|34|50|101|152)\b/.test(text);
}

/** The builder a torchvision name calls (`torchvision.models.resnet18`, `torchvision.models.resnet.resnet50`), or null. */
export function torchvisionBuilder(qualified: string): string | null {
  const m = /^torchvision\.models(?:\.resnet)?\.(resnet(?:18|34|50|101|152))$/.exec(qualified);
  return m ? m[1]! : null;
}

let parsed: PyFile | null = null;

/** Whether a syntax node is the catalogue's (a torchvision class or builder), not a workspace file's. */
export function inCatalogue(node: Node): boolean {
  return parsed !== null && node.tree === parsed.root.tree;
}

/** The catalogue's source, parsed once per process with the language of the files being read. */
export function torchvisionSource(language: Language): PyFile {
  if (!parsed) {
    const parser = new Parser();
    parser.setLanguage(language);
    parsed = PyFile.parse(parser, TORCHVISION_PATH, SOURCE);
    parser.delete();
  }
  return parsed;
}
